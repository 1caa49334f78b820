"""What a fake service is made of, so the common app (faults, idempotency, journal,
admin, OpenAPI) is written once and each service module only states its domain.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fracas.fakes.contract import RouteSpec
from fracas.fakes.validate import Schema
from fracas.fakes.world import World


class Problem(Exception):
    """An RFC 9457 answer the handler decided on (a business outcome, not a crash)."""

    def __init__(self, status: int, type_: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, "not-found", "Not Found", f"no {what} {ident!r}")


@dataclass
class Call:
    """One request as a handler sees it, inside the transaction that commits its effect."""

    db: sqlite3.Connection
    world: World
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    idempotency_key: str | None
    correlation_id: str | None
    now: float


@dataclass
class Answer:
    status: int
    body: Any
    effect_id: str | None = None
    order_id: str | None = None
    problem: bool = False
    replayed: bool = False
    #: the body as sent, once encoded (a replay sends exactly the stored text)
    text: str | None = None

    def encoded(self) -> str:
        if self.text is None:
            self.text = json.dumps(self.body)
        return self.text


Handler = Callable[[Call], Answer]
OrderOf = Callable[[sqlite3.Connection, dict[str, str]], str | None]


@dataclass
class Route:
    """A handler bound to a route of the contract: the method, the path and whether an
    Idempotency-Key applies are the contract's (``spec``), stated there once."""

    spec: RouteSpec
    handler: Handler
    summary: str
    #: status -> component schema name (or None for "no body described")
    responses: dict[int, str]
    body: Schema | None = None
    #: the body may be absent altogether (release, cancel)
    body_optional: bool = False
    #: the order a path's resource belongs to, for fault matching and the journal
    order_of: OrderOf | None = None
    query: list[str] = field(default_factory=list)
    regex: re.Pattern[str] = field(init=False)
    param_names: list[str] = field(init=False)

    @property
    def method(self) -> str:
        return self.spec.method

    @property
    def template(self) -> str:
        return self.spec.path

    @property
    def operation_id(self) -> str:
        return self.spec.operation

    @property
    def effectful(self) -> bool:
        """Idempotency-Key applies (an effectful POST)."""
        return self.spec.effectful

    def __post_init__(self) -> None:
        self.param_names = re.findall(r"{(\w+)}", self.template)
        pattern = re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", self.template)
        self.regex = re.compile(f"^{pattern}$")


@dataclass
class Service:
    name: str
    title: str
    ddl: list[str]
    #: tables listed by /_fracas/state, in order; all are wiped on reset
    tables: list[str]
    routes: list[Route]
    seed: Callable[[sqlite3.Connection, World], None]
    state: Callable[[sqlite3.Connection], dict[str, list[dict[str, Any]]]]
    #: response component schemas by name
    components: dict[str, Schema]


def next_seq(db: sqlite3.Connection, table: str) -> int:
    """The next row number; one writer per process makes MAX+1 safe and restart-proof."""
    row = db.execute(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}").fetchone()
    return int(row[0])


def rows(db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = db.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def one(db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> dict[str, Any] | None:
    found = rows(db, sql, args)
    return found[0] if found else None


def order_of_row(table: str, id_column: str, param: str) -> OrderOf:
    """Fault matching and the journal learn a path resource's order from its row."""

    def order_of(db: sqlite3.Connection, params: dict[str, str]) -> str | None:
        row = db.execute(
            f"SELECT order_id FROM {table} WHERE {id_column} = ?", (params[param],)
        ).fetchone()
        return None if row is None else str(row[0])

    return order_of


PROBLEM_SCHEMA: Schema = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _as_stored(row: dict[str, Any]) -> dict[str, Any]:
    return row


def finder(
    table: str,
    id_column: str,
    fields: str,
    what: str,
    view: Callable[[dict[str, Any]], dict[str, Any]] = _as_stored,
) -> Callable[[Call], dict[str, Any]]:
    """Load the row a path's id names, or answer 404 (the contract's unknown id)."""

    def find(call: Call) -> dict[str, Any]:
        ident = call.params[id_column]
        row = one(call.db, f"SELECT {fields} FROM {table} WHERE {id_column} = ?", (ident,))
        if row is None:
            raise not_found(what, ident)
        return view(row)

    return find


def get_by_id(find: Callable[[Call], dict[str, Any]]) -> Handler:
    """``GET /things/{id}``: the row, attributed to its order in the journal."""

    def get(call: Call) -> Answer:
        row = find(call)
        return Answer(200, row, order_id=row["order_id"])

    return get


def list_by_order(
    table: str, fields: str, view: Callable[[dict[str, Any]], dict[str, Any]] = _as_stored
) -> Handler:
    """``GET /things?order_id=``: every list filters by order, so an orchestrator can look
    up what happened after an answer it never got (contract §4)."""

    def list_rows(call: Call) -> Answer:
        order_id = call.query.get("order_id")
        sql = f"SELECT {fields} FROM {table}"
        args: tuple[Any, ...] = ()
        if order_id is not None:
            sql += " WHERE order_id = ?"
            args = (order_id,)
        found = [view(r) for r in rows(call.db, sql + " ORDER BY seq", args)]
        return Answer(200, found, order_id=order_id)

    return list_rows
