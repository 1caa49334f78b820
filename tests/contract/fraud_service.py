"""The worked example of docs/extending.md: a sixth fake service, ``fraud``, written
entirely outside the fracas packages.

Two parts, as the recipe says: its contract entry (``fracas.fakes.contract.ServiceSpec``: the
routes, which saga step each is, which table its effects land in) and the fake (a
``fracas.fakes.service.Service``: tables and handlers, each bound to a route of the entry). Registering the entry is what makes the
checkers, the timeline and the harness see the service; no harness file changes.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from fracas.fakes import contract
from fracas.fakes.service import Answer, Call, Route, Service, next_seq, rows
from fracas.fakes.validate import obj, text
from fracas.fakes.world import World

SPEC = contract.ServiceSpec(
    "fraud",
    (
        contract.RouteSpec("POST", "/screenings", "screen", effectful=True, operation="screen"),
        contract.RouteSpec("GET", "/screenings", "lookup", operation="listScreenings"),
    ),
    (contract.LedgerTable("screenings", "screening_id"),),
)

DDL = [
    """CREATE TABLE IF NOT EXISTS screenings (
        seq INTEGER PRIMARY KEY, screening_id TEXT UNIQUE NOT NULL, order_id TEXT NOT NULL,
        verdict TEXT NOT NULL, idempotency_key TEXT, correlation_id TEXT,
        created_at REAL NOT NULL)""",
]
FIELDS = "screening_id, order_id, verdict"
SCREEN = obj(["order_id"], order_id=text())
VIEW = obj(
    ["screening_id", "order_id", "verdict"],
    screening_id={"type": "string"},
    order_id={"type": "string"},
    verdict={"type": "string"},
)


def screen(call: Call) -> Answer:
    seq = next_seq(call.db, "screenings")
    sid = f"scr-{seq:04d}"
    oid = call.body["order_id"]
    call.db.execute(
        "INSERT INTO screenings VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, sid, oid, "pass", call.idempotency_key, call.correlation_id, call.now),
    )
    return Answer(201, {"screening_id": sid, "order_id": oid, "verdict": "pass"}, sid, oid)


def list_screenings(call: Call) -> Answer:
    return Answer(200, rows(call.db, f"SELECT {FIELDS} FROM screenings ORDER BY seq"))


def seed(db: sqlite3.Connection, world: World) -> None:
    """fraud starts empty."""


def state(db: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    return {"screenings": rows(db, "SELECT * FROM screenings ORDER BY seq")}


SERVICE = Service(
    name="fraud",
    title="fracas example fraud-check service",
    ddl=DDL,
    tables=["screenings"],
    routes=[
        Route(
            SPEC.route("screen"),
            screen,
            "Screen an order.",
            {201: "Screening"},
            body=SCREEN,
        ),
        Route(
            SPEC.route("listScreenings"),
            list_screenings,
            "All screenings.",
            {200: "ScreeningList"},
        ),
    ],  # fmt: skip
    seed=seed,
    state=state,
    components={"Screening": VIEW, "ScreeningList": {"type": "array", "items": VIEW}},
)
