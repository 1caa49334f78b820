"""A participant's durable state: one SQLite file in its FRACAS_STATE_DIR.

``processed`` is the dedup of redelivered events (by message id), ``outbox`` holds the
events a state change decided to publish, written in the same transaction, so a crash
between the change and the publish loses nothing; ``created`` remembers what this
participant made per order (what a compensation undoes; ``{}`` for a step it refused),
and ``joins`` the events a join waits for, until all of them are in.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
create table if not exists processed (msg_id text primary key);
create table if not exists outbox (id integer primary key, event text, msg_id text,
                                   body text);
create table if not exists created (order_id text primary key, body text);
create table if not exists joins (order_id text, event text, body text,
                                  primary key (order_id, event));
create table if not exists orders (order_id text primary key, body text);
create table if not exists decisions (order_id text primary key, decision text);
"""


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def seen(self, msg_id: str) -> bool:
        row = self._db.execute("select 1 from processed where msg_id = ?", (msg_id,))
        return row.fetchone() is not None

    def commit(self, msg_id: str | None, outbox: list[tuple[str, str, dict[str, Any]]],
               created: tuple[str, dict[str, Any]] | None = None) -> None:
        """Mark ``msg_id`` processed and queue ``outbox`` (event, message id, body) in one
        transaction (the outbox pattern)."""
        with self._lock:
            self._db.execute("begin immediate")
            try:
                if msg_id is not None:
                    self._db.execute("insert or ignore into processed values (?)", (msg_id,))
                for event, mid, body in outbox:
                    self._db.execute("insert into outbox (event, msg_id, body) values (?, ?, ?)",
                                     (event, mid, json.dumps(body)))
                if created is not None:
                    self._db.execute("insert or replace into created values (?, ?)",
                                     (created[0], json.dumps(created[1])))
                self._db.execute("commit")
            except BaseException:
                self._db.execute("rollback")
                raise

    def pending(self) -> list[tuple[int, str, str, dict[str, Any]]]:
        rows = self._db.execute("select id, event, msg_id, body from outbox order by id")
        return [(i, e, m, json.loads(b)) for i, e, m, b in rows.fetchall()]

    def sent(self, row_id: int) -> None:
        self._db.execute("delete from outbox where id = ?", (row_id,))

    def created(self, order_id: str) -> dict[str, Any] | None:
        row = self._db.execute("select body from created where order_id = ?", (order_id,))
        found = row.fetchone()
        return None if found is None else dict(json.loads(found[0]))

    def join(self, order_id: str, event: str, body: dict[str, Any],
             needs: tuple[str, ...]) -> dict[str, Any] | None:
        """Record ``event`` of the order; once every event of ``needs`` is in, their bodies
        merged (the same again each time one is delivered again), else None. No await
        between the write and the read: two handlers of one process never both miss."""
        with self._lock:
            self._db.execute("insert or replace into joins values (?, ?, ?)",
                             (order_id, event, json.dumps(body)))
            rows = dict(self._db.execute("select event, body from joins where order_id = ?",
                                         (order_id,)).fetchall())
        if not all(e in rows for e in needs):
            return None
        merged: dict[str, Any] = {}
        for e in needs:
            merged.update(json.loads(rows[e]))
        return merged

    def decision(self, order_id: str) -> str | None:
        row = self._db.execute("select decision from decisions where order_id = ?",
                               (order_id,)).fetchone()
        return None if row is None else str(row[0])

    def decide(self, order_id: str, decision: str, event: tuple[str, str, dict[str, Any]]) -> None:
        """The first decision and the event that carries it, in one transaction."""
        with self._lock:
            self._db.execute("begin immediate")
            self._db.execute("insert into decisions values (?, ?)", (order_id, decision))
            self._db.execute("insert into outbox (event, msg_id, body) values (?, ?, ?)",
                             (event[0], event[1], json.dumps(event[2])))
            self._db.execute("commit")

    def view(self, order_id: str) -> dict[str, Any] | None:
        row = self._db.execute("select body from orders where order_id = ?", (order_id,))
        found = row.fetchone()
        return None if found is None else dict(json.loads(found[0]))

    def set_view(self, msg_id: str, order_id: str, body: dict[str, Any],
                 asked: dict[str, Any] | None = None) -> None:
        """The order's answer after an event; ``asked``: the review request it carried."""
        with self._lock:
            self._db.execute("begin immediate")
            self._db.execute("insert or replace into orders values (?, ?)",
                             (order_id, json.dumps(body)))
            if asked is not None:
                self._db.execute("insert or replace into created values (?, ?)",
                                 (order_id, json.dumps(asked)))
            self._db.execute("insert or ignore into processed values (?)", (msg_id,))
            self._db.execute("commit")
