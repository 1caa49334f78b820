"""shipping: quotes (pure, from the rates and weights tables) and shipments, which are
refused for a country the world does not serve.
"""

from __future__ import annotations

import hashlib
import json
import math
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
    order_of_row,
    rows,
)
from fracas.fakes.validate import ADDRESS, LINES, obj, text
from fracas.fakes.world import World

DDL = [
    """CREATE TABLE IF NOT EXISTS rates (
        country TEXT PRIMARY KEY, served INTEGER NOT NULL, base_cents INTEGER NOT NULL,
        per_kg_cents INTEGER NOT NULL, pos INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS weights (
        sku TEXT PRIMARY KEY, weight_g INTEGER NOT NULL, pos INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS shipments (
        seq INTEGER PRIMARY KEY, shipment_id TEXT UNIQUE NOT NULL, order_id TEXT NOT NULL,
        reservation_id TEXT NOT NULL, address TEXT NOT NULL, tracking_number TEXT NOT NULL,
        status TEXT NOT NULL, idempotency_key TEXT, correlation_id TEXT,
        created_at REAL NOT NULL, cancelled_at REAL)""",
    "CREATE INDEX IF NOT EXISTS shipments_order ON shipments (order_id)",
]

QUOTE = obj(
    ["address", "lines"],
    address=obj(["country"], country={"type": "string", "pattern": "^[A-Z]{2}$"}),
    lines=LINES,
)
SHIP = obj(
    ["order_id", "reservation_id", "address"],
    order_id=text(),
    reservation_id=text(),
    address=ADDRESS,
)
VIEW_FIELDS = "shipment_id, order_id, reservation_id, tracking_number, status"


def _rate(db: sqlite3.Connection, country: str) -> tuple[bool, int, int]:
    row = db.execute(
        "SELECT served, base_cents, per_kg_cents FROM rates WHERE country = ?", (country,)
    ).fetchone()
    if row is None:
        row = db.execute(
            "SELECT served, base_cents, per_kg_cents FROM rates WHERE country = '*'"
        ).fetchone()
    return bool(row[0]), int(row[1]), int(row[2])


def quote(call: Call) -> Answer:
    country = call.body["address"]["country"]
    lines = [{"sku": line["sku"], "qty": line["qty"]} for line in call.body["lines"]]
    total_g = 0
    for i, line in enumerate(lines):
        row = call.db.execute(
            "SELECT weight_g FROM weights WHERE sku = ?", (line["sku"],)
        ).fetchone()
        if row is None:
            raise Problem(
                422, "unknown-sku", "Unprocessable Content", f"unknown sku {line['sku']!r}",
                errors=[{"field": f"lines[{i}].sku", "message": f"unknown sku {line['sku']!r}"}],
            )  # fmt: skip
        total_g += line["qty"] * int(row[0])
    _, base, per_kg = _rate(call.db, country)
    amount = base + per_kg * math.ceil(total_g / 1000)
    digest = hashlib.sha256(json.dumps([country, lines]).encode()).hexdigest()[:12]
    order_id = call.body.get("order_id") if isinstance(call.body.get("order_id"), str) else None
    return Answer(200, {"quote_id": f"quo-{digest}", "amount_cents": amount}, order_id=order_id)


def ship(call: Call) -> Answer:
    body = call.body
    address = {k: body["address"][k] for k in ("line1", "city", "postcode", "country")}
    served, _, _ = _rate(call.db, address["country"])
    if not served:
        raise Problem(
            422, "undeliverable", "Unprocessable Content",
            f"shipping does not serve country {address['country']!r}",
            errors=[{"field": "address.country", "message": "country not served"}],
        )  # fmt: skip
    seq = next_seq(call.db, "shipments")
    shipment_id = f"shp-{seq:04d}"
    tracking = f"TRK{seq:08d}"
    call.db.execute(
        "INSERT INTO shipments VALUES (?, ?, ?, ?, ?, ?, 'created', ?, ?, ?, NULL)",
        (
            seq,
            shipment_id,
            body["order_id"],
            body["reservation_id"],
            json.dumps(address),
            tracking,
            call.idempotency_key,
            call.correlation_id,
            call.now,
        ),
    )
    view = {
        "shipment_id": shipment_id,
        "order_id": body["order_id"],
        "reservation_id": body["reservation_id"],
        "tracking_number": tracking,
        "status": "created",
    }
    return Answer(201, view, shipment_id, body["order_id"])


_find = finder("shipments", "shipment_id", VIEW_FIELDS, "shipment")
get_shipment = get_by_id(_find)
list_shipments = list_by_order("shipments", VIEW_FIELDS)


def cancel(call: Call) -> Answer:
    row = _find(call)
    if row["status"] == "created":
        call.db.execute(
            "UPDATE shipments SET status = 'cancelled', cancelled_at = ? WHERE shipment_id = ?",
            (call.now, row["shipment_id"]),
        )
        row["status"] = "cancelled"
    return Answer(200, row, row["shipment_id"], row["order_id"])


def seed(db: sqlite3.Connection, world: World) -> None:
    db.executemany(
        "INSERT INTO rates VALUES (?, ?, ?, ?, ?)",
        [
            (r.country, int(r.served), r.base_cents, r.per_kg_cents, i)
            for i, r in enumerate(world.rates)
        ],
    )
    db.executemany(
        "INSERT INTO weights VALUES (?, ?, ?)",
        [(s.sku, s.weight_g, i) for i, s in enumerate(world.skus)],
    )


def state(db: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    rates = rows(db, "SELECT country, served, base_cents, per_kg_cents FROM rates ORDER BY pos")
    for r in rates:
        r["served"] = bool(r["served"])
    shipments = rows(
        db,
        "SELECT seq, shipment_id, order_id, reservation_id, address, tracking_number, status,"
        " idempotency_key, correlation_id, created_at, cancelled_at FROM shipments ORDER BY seq",
    )
    for s in shipments:
        s["address"] = json.loads(s["address"])
    return {
        "rates": rates,
        "weights": rows(db, "SELECT sku, weight_g FROM weights ORDER BY pos"),
        "shipments": shipments,
    }


_order_of = order_of_row("shipments", "shipment_id", "shipment_id")

SHIPMENT_VIEW = obj(
    ["shipment_id", "order_id", "reservation_id", "tracking_number", "status"],
    shipment_id={"type": "string"},
    order_id={"type": "string"},
    reservation_id={"type": "string"},
    tracking_number={"type": "string"},
    status={"type": "string", "enum": ["created", "cancelled"]},
)

SPEC = contract.service("shipping")

SERVICE = Service(
    name="shipping",
    title="fracas fake shipping service",
    ddl=DDL,
    tables=["rates", "weights", "shipments"],
    routes=[
        Route(
            SPEC.route("createQuote"),
            quote,
            "Quote a delivery; any country is quoted, only served ones are shipped.",
            {200: "Quote"},
            body=QUOTE,
        ),
        Route(
            SPEC.route("createShipment"),
            ship,
            "Create a shipment; a country not served gives 422 undeliverable.",
            {201: "Shipment"},
            body=SHIP,
        ),
        Route(
            SPEC.route("listShipments"),
            list_shipments,
            "Shipments, optionally of one order.",
            {200: "ShipmentList"},
            query=["order_id"],
        ),
        Route(
            SPEC.route("getShipment"),
            get_shipment,
            "One shipment.",
            {200: "Shipment", 404: "Problem"},
            order_of=_order_of,
        ),
        Route(
            SPEC.route("cancelShipment"),
            cancel,
            "Cancel a shipment; cancelling again changes nothing.",
            {200: "Shipment", 404: "Problem"},
            body_optional=True,
            order_of=_order_of,
        ),
    ],  # fmt: skip
    seed=seed,
    state=state,
    components={
        "Quote": obj(
            ["quote_id", "amount_cents"],
            quote_id={"type": "string"},
            amount_cents={"type": "integer"},
        ),
        "Shipment": SHIPMENT_VIEW,
        "ShipmentList": {"type": "array", "items": SHIPMENT_VIEW},
    },
)
