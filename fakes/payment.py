"""payment: captures and refunds. Declined cards cost nothing; a refund never exceeds
what is left of its capture.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from fracas.fakes import contract
from fracas.fakes.service import (
    Answer,
    Call,
    Problem,
    Route,
    Service,
    finder,
    get_by_id,
    list_by_order,
    next_seq,
    not_found,
    one,
    order_of_row,
    rows,
)
from fracas.fakes.validate import MAX_CENTS, integer, obj, text
from fracas.fakes.world import TOKEN_PREFIX, World, is_declined

DDL = [
    """CREATE TABLE IF NOT EXISTS payments (
        seq INTEGER PRIMARY KEY, payment_id TEXT UNIQUE NOT NULL, order_id TEXT NOT NULL,
        amount_cents INTEGER NOT NULL, currency TEXT NOT NULL, card_token TEXT NOT NULL,
        status TEXT NOT NULL, refunded_cents INTEGER NOT NULL, idempotency_key TEXT,
        correlation_id TEXT, created_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS payments_order ON payments (order_id)",
    """CREATE TABLE IF NOT EXISTS refunds (
        seq INTEGER PRIMARY KEY, refund_id TEXT UNIQUE NOT NULL, payment_id TEXT NOT NULL,
        order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, idempotency_key TEXT,
        correlation_id TEXT, created_at REAL NOT NULL)""",
]

PAYMENT_FIELDS = "payment_id, order_id, amount_cents, currency, status, refunded_cents"

CAPTURE = obj(
    ["order_id", "amount_cents", "currency", "card_token"],
    order_id=text(),
    amount_cents=integer(1, MAX_CENTS),
    currency={"type": "string", "pattern": "^[A-Z]{3}$"},
    card_token=text(200, pattern=f"^{TOKEN_PREFIX}"),
)
REFUND = obj(["amount_cents"], amount_cents=integer(1, MAX_CENTS))


get_payment = get_by_id(finder("payments", "payment_id", PAYMENT_FIELDS, "payment"))
list_payments = list_by_order("payments", PAYMENT_FIELDS)


def capture(call: Call) -> Answer:
    body = call.body
    if is_declined(body["card_token"]):
        raise Problem(402, "card-declined", "Payment Required", "the card was declined")
    seq = next_seq(call.db, "payments")
    payment_id = f"pay-{seq:04d}"
    call.db.execute(
        "INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, 'captured', 0, ?, ?, ?)",
        (
            seq,
            payment_id,
            body["order_id"],
            body["amount_cents"],
            body["currency"],
            body["card_token"],
            call.idempotency_key,
            call.correlation_id,
            call.now,
        ),
    )
    view = {
        "payment_id": payment_id,
        "order_id": body["order_id"],
        "amount_cents": body["amount_cents"],
        "currency": body["currency"],
        "status": "captured",
        "refunded_cents": 0,
    }
    return Answer(201, view, payment_id, body["order_id"])


def refund(call: Call) -> Answer:
    pid = call.params["payment_id"]
    row = one(call.db, f"SELECT {PAYMENT_FIELDS} FROM payments WHERE payment_id = ?", (pid,))
    if row is None:
        raise not_found("payment", pid)
    amount = call.body["amount_cents"]
    left = row["amount_cents"] - row["refunded_cents"]
    if amount > left:
        raise Problem(
            409,
            "refund-exceeds-capture",
            "Conflict",
            f"refund of {amount} exceeds the {left} left of payment {pid}",
        )
    seq = next_seq(call.db, "refunds")
    refund_id = f"ref-{seq:04d}"
    call.db.execute(
        "INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            refund_id,
            pid,
            row["order_id"],
            amount,
            call.idempotency_key,
            call.correlation_id,
            call.now,
        ),
    )
    call.db.execute(
        "UPDATE payments SET refunded_cents = refunded_cents + ? WHERE payment_id = ?",
        (amount, pid),
    )
    view = {
        "refund_id": refund_id,
        "payment_id": pid,
        "order_id": row["order_id"],
        "amount_cents": amount,
    }
    return Answer(201, view, refund_id, row["order_id"])


def seed(db: sqlite3.Connection, world: World) -> None:
    """Payment starts empty; only tokens matter and they need no rows."""


def state(db: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        "payments": rows(
            db,
            "SELECT seq, payment_id, order_id, amount_cents, currency, card_token, status,"
            " refunded_cents, idempotency_key, correlation_id, created_at"
            " FROM payments ORDER BY seq",
        ),
        "refunds": rows(
            db,
            "SELECT seq, refund_id, payment_id, order_id, amount_cents, idempotency_key,"
            " correlation_id, created_at FROM refunds ORDER BY seq",
        ),
    }


_order_of = order_of_row("payments", "payment_id", "payment_id")

PAYMENT_VIEW = obj(
    ["payment_id", "order_id", "amount_cents", "currency", "status", "refunded_cents"],
    payment_id={"type": "string"},
    order_id={"type": "string"},
    amount_cents={"type": "integer"},
    currency={"type": "string"},
    status={"type": "string", "enum": ["captured"]},
    refunded_cents={"type": "integer"},
)
REFUND_VIEW = obj(
    ["refund_id", "payment_id", "order_id", "amount_cents"],
    refund_id={"type": "string"},
    payment_id={"type": "string"},
    order_id={"type": "string"},
    amount_cents={"type": "integer"},
)

SPEC = contract.service("payment")

SERVICE = Service(
    name="payment",
    title="fracas fake payment service",
    ddl=DDL,
    tables=["payments", "refunds"],
    routes=[
        Route(
            SPEC.route("capturePayment"),
            capture,
            "Capture a payment; a tok_decline... card gives 402 and no effect.",
            {201: "Payment", 402: "Problem"},
            body=CAPTURE,
        ),
        Route(
            SPEC.route("listPayments"),
            list_payments,
            "Payments, optionally of one order.",
            {200: "PaymentList"},
            query=["order_id"],
        ),
        Route(
            SPEC.route("getPayment"),
            get_payment,
            "One payment.",
            {200: "Payment", 404: "Problem"},
            order_of=_order_of,
        ),
        Route(
            SPEC.route("refundPayment"),
            refund,
            "Refund part or all of what is left of a capture.",
            {201: "Refund", 404: "Problem", 409: "Problem"},
            body=REFUND,
            order_of=_order_of,
        ),
    ],  # fmt: skip
    seed=seed,
    state=state,
    components={
        "Payment": PAYMENT_VIEW,
        "PaymentList": {"type": "array", "items": PAYMENT_VIEW},
        "Refund": REFUND_VIEW,
    },
)
