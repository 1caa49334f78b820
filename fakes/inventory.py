"""inventory: stock and all-or-nothing reservations. ``on_hand + held`` of a SKU is
always its initial stock, which is what the conservation check relies on.
"""

from __future__ import annotations

import json
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
from fracas.fakes.validate import LINES, obj, text
from fracas.fakes.world import World

DDL = [
    """CREATE TABLE IF NOT EXISTS stock (
        sku TEXT PRIMARY KEY, name TEXT NOT NULL, on_hand INTEGER NOT NULL,
        held INTEGER NOT NULL, initial_on_hand INTEGER NOT NULL, pos INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS reservations (
        seq INTEGER PRIMARY KEY, reservation_id TEXT UNIQUE NOT NULL, order_id TEXT NOT NULL,
        lines TEXT NOT NULL, status TEXT NOT NULL, idempotency_key TEXT, correlation_id TEXT,
        created_at REAL NOT NULL, released_at REAL)""",
    "CREATE INDEX IF NOT EXISTS reservations_order ON reservations (order_id)",
]

RESERVE = obj(["order_id", "lines"], order_id=text(), lines=LINES)
VIEW_FIELDS = "reservation_id, order_id, lines, status"


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "lines": json.loads(row["lines"])}


def get_stock(call: Call) -> Answer:
    sku = call.params["sku"]
    row = one(call.db, "SELECT sku, on_hand, held FROM stock WHERE sku = ?", (sku,))
    if row is None:
        raise not_found("sku", sku)
    return Answer(200, row)


def reserve(call: Call) -> Answer:
    order_id = call.body["order_id"]
    lines = [{"sku": line["sku"], "qty": line["qty"]} for line in call.body["lines"]]
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line["sku"]] = wanted.get(line["sku"], 0) + line["qty"]
    short = []
    for sku in wanted:
        row = call.db.execute("SELECT on_hand FROM stock WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            field = f"lines[{[ln['sku'] for ln in lines].index(sku)}].sku"
            raise Problem(
                422, "unknown-sku", "Unprocessable Content", f"unknown sku {sku!r}",
                errors=[{"field": field, "message": f"unknown sku {sku!r}"}],
            )  # fmt: skip
        if row[0] < wanted[sku]:
            short.append(f"{sku} (wanted {wanted[sku]}, on hand {row[0]})")
    if short:
        raise Problem(409, "out-of-stock", "Conflict", "not enough stock: " + ", ".join(short))
    for sku, qty in wanted.items():
        call.db.execute(
            "UPDATE stock SET on_hand = on_hand - ?, held = held + ? WHERE sku = ?",
            (qty, qty, sku),
        )
    seq = next_seq(call.db, "reservations")
    reservation_id = f"res-{seq:04d}"
    call.db.execute(
        "INSERT INTO reservations VALUES (?, ?, ?, ?, 'held', ?, ?, ?, NULL)",
        (
            seq,
            reservation_id,
            order_id,
            json.dumps(lines),
            call.idempotency_key,
            call.correlation_id,
            call.now,
        ),
    )
    view = {
        "reservation_id": reservation_id,
        "order_id": order_id,
        "lines": lines,
        "status": "held",
    }
    return Answer(201, view, reservation_id, order_id)


_find = finder("reservations", "reservation_id", VIEW_FIELDS, "reservation", _view)
get_reservation = get_by_id(_find)
list_reservations = list_by_order("reservations", VIEW_FIELDS, _view)


def release(call: Call) -> Answer:
    view = _find(call)
    if view["status"] == "held":
        for line in view["lines"]:
            call.db.execute(
                "UPDATE stock SET on_hand = on_hand + ?, held = held - ? WHERE sku = ?",
                (line["qty"], line["qty"], line["sku"]),
            )
        call.db.execute(
            "UPDATE reservations SET status = 'released', released_at = ? WHERE reservation_id = ?",
            (call.now, view["reservation_id"]),
        )
        view["status"] = "released"
    return Answer(200, view, view["reservation_id"], view["order_id"])


def seed(db: sqlite3.Connection, world: World) -> None:
    db.executemany(
        "INSERT INTO stock VALUES (?, ?, ?, 0, ?, ?)",
        [(s.sku, s.name, s.on_hand, s.on_hand, i) for i, s in enumerate(world.skus)],
    )


def state(db: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    reservations = rows(
        db,
        "SELECT seq, reservation_id, order_id, lines, status, idempotency_key, correlation_id,"
        " created_at, released_at FROM reservations ORDER BY seq",
    )
    return {
        "stock": rows(
            db, "SELECT sku, name, on_hand, held, initial_on_hand FROM stock ORDER BY pos"
        ),
        "reservations": [_view(r) for r in reservations],
    }


_order_of = order_of_row("reservations", "reservation_id", "reservation_id")

LINE_VIEW = obj(["sku", "qty"], sku={"type": "string"}, qty={"type": "integer"})
RESERVATION_VIEW = obj(
    ["reservation_id", "order_id", "lines", "status"],
    reservation_id={"type": "string"},
    order_id={"type": "string"},
    lines={"type": "array", "items": LINE_VIEW},
    status={"type": "string", "enum": ["held", "released"]},
)

SPEC = contract.service("inventory")

SERVICE = Service(
    name="inventory",
    title="fracas fake inventory service",
    ddl=DDL,
    tables=["stock", "reservations"],
    routes=[
        Route(
            SPEC.route("getStock"),
            get_stock,
            "Stock of one SKU.",
            {200: "Stock", 404: "Problem"},
        ),
        Route(
            SPEC.route("createReservation"),
            reserve,
            "Hold stock for every line, all or nothing.",
            {201: "Reservation", 409: "Problem"},
            body=RESERVE,
        ),
        Route(
            SPEC.route("listReservations"),
            list_reservations,
            "Reservations, optionally of one order.",
            {200: "ReservationList"},
            query=["order_id"],
        ),
        Route(
            SPEC.route("getReservation"),
            get_reservation,
            "One reservation.",
            {200: "Reservation", 404: "Problem"},
            order_of=_order_of,
        ),
        Route(
            SPEC.route("releaseReservation"),
            release,
            "Give the stock back; releasing again changes nothing.",
            {200: "Reservation", 404: "Problem"},
            body_optional=True,
            order_of=_order_of,
        ),
    ],  # fmt: skip
    seed=seed,
    state=state,
    components={
        "Stock": obj(
            ["sku", "on_hand", "held"],
            sku={"type": "string"},
            on_hand={"type": "integer"},
            held={"type": "integer"},
        ),
        "Reservation": RESERVATION_VIEW,
        "ReservationList": {"type": "array", "items": RESERVATION_VIEW},
    },
)
