"""notify: the messages sent to customers; each one is an effect a retry can double."""

from __future__ import annotations

import sqlite3
from typing import Any

from fracas.fakes import contract
from fracas.fakes.service import (
    Answer,
    Call,
    Route,
    Service,
    finder,
    get_by_id,
    list_by_order,
    next_seq,
    rows,
)
from fracas.fakes.validate import obj, text
from fracas.fakes.world import World

TEMPLATES = ["order_confirmed", "order_failed"]

DDL = [
    """CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY, message_id TEXT UNIQUE NOT NULL, order_id TEXT NOT NULL,
        customer_id TEXT NOT NULL, template TEXT NOT NULL, idempotency_key TEXT,
        correlation_id TEXT, created_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS messages_order ON messages (order_id)",
]

SEND = obj(
    ["order_id", "customer_id", "template"],
    order_id=text(),
    customer_id=text(),
    template={"type": "string", "enum": TEMPLATES},
)
VIEW_FIELDS = "message_id, order_id, customer_id, template"


get_message = get_by_id(finder("messages", "message_id", VIEW_FIELDS, "message"))
list_messages = list_by_order("messages", VIEW_FIELDS)


def send_message(call: Call) -> Answer:
    body = call.body
    seq = next_seq(call.db, "messages")
    message_id = f"msg-{seq:04d}"
    call.db.execute(
        "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            message_id,
            body["order_id"],
            body["customer_id"],
            body["template"],
            call.idempotency_key,
            call.correlation_id,
            call.now,
        ),
    )
    view = {
        "message_id": message_id,
        "order_id": body["order_id"],
        "customer_id": body["customer_id"],
        "template": body["template"],
    }
    return Answer(201, view, message_id, body["order_id"])


def seed(db: sqlite3.Connection, world: World) -> None:
    """notify starts empty."""


def state(db: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        "messages": rows(
            db,
            "SELECT seq, message_id, order_id, customer_id, template, idempotency_key,"
            " correlation_id, created_at FROM messages ORDER BY seq",
        )
    }


def _order_of(db: sqlite3.Connection, params: dict[str, str]) -> str | None:
    row = db.execute(
        "SELECT order_id FROM messages WHERE message_id = ?", (params["message_id"],)
    ).fetchone()
    return None if row is None else str(row[0])


_STR = {"type": "string"}
MESSAGE_VIEW = obj(
    ["message_id", "order_id", "customer_id", "template"],
    message_id=_STR,
    order_id=_STR,
    customer_id=_STR,
    template={"type": "string", "enum": TEMPLATES},
)

SPEC = contract.service("notify")

SERVICE = Service(
    name="notify",
    title="fracas fake notify service",
    ddl=DDL,
    tables=["messages"],
    routes=[
        Route(
            SPEC.route("sendMessage"),
            send_message,
            "Send a message to a customer about an order.",
            {201: "Message"},
            body=SEND,
        ),
        Route(
            SPEC.route("listMessages"),
            list_messages,
            "Messages, optionally of one order.",
            {200: "MessageList"},
            query=["order_id"],
        ),
        Route(
            SPEC.route("getMessage"),
            get_message,
            "One message.",
            {200: "Message", 404: "Problem"},
            order_of=_order_of,
        ),
    ],  # fmt: skip
    seed=seed,
    state=state,
    components={"Message": MESSAGE_VIEW, "MessageList": {"type": "array", "items": MESSAGE_VIEW}},
)
