"""crm: read-only customers, straight from the seeded world."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from fracas.fakes import contract
from fracas.fakes.service import Answer, Call, Route, Service, not_found, rows
from fracas.fakes.validate import obj
from fracas.fakes.world import World

DDL = [
    """CREATE TABLE IF NOT EXISTS customers (
        customer_id TEXT PRIMARY KEY, pos INTEGER NOT NULL, doc TEXT NOT NULL)""",
]


def get_customer(call: Call) -> Answer:
    cid = call.params["customer_id"]
    row = call.db.execute("SELECT doc FROM customers WHERE customer_id = ?", (cid,)).fetchone()
    if row is None:
        raise not_found("customer", cid)
    return Answer(200, json.loads(row[0]))


def seed(db: sqlite3.Connection, world: World) -> None:
    db.executemany(
        "INSERT INTO customers VALUES (?, ?, ?)",
        [(c.customer_id, i, json.dumps(c.as_dict())) for i, c in enumerate(world.customers)],
    )


def state(db: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    docs = rows(db, "SELECT doc FROM customers ORDER BY pos")
    return {"customers": [json.loads(d["doc"]) for d in docs]}


_STR = {"type": "string"}
CUSTOMER = obj(
    ["customer_id", "name", "email", "status", "risk", "address"],
    customer_id=_STR,
    name=_STR,
    email=_STR,
    status={"type": "string", "enum": ["active", "blocked"]},
    risk={"type": "string", "enum": ["low", "high"]},
    address=obj(
        ["line1", "city", "postcode", "country"],
        line1=_STR,
        city=_STR,
        postcode=_STR,
        country=_STR,
    ),
)

SPEC = contract.service("crm")

SERVICE = Service(
    name="crm",
    title="fracas fake CRM service",
    ddl=DDL,
    tables=["customers"],
    routes=[
        Route(
            SPEC.route("getCustomer"),
            get_customer,
            "One customer: status, risk and address.",
            {200: "Customer", 404: "Problem"},
        ),
    ],  # fmt: skip
    seed=seed,
    state=state,
    components={"Customer": CUSTOMER},
)
