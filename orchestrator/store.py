"""Durable saga state in one SQLite file, so a SIGKILL loses nothing that was decided.

Every transition rewrites the order's row and appends to its event log in a single
transaction: the row says where to resume, the log says how it got there. WAL with
``synchronous=NORMAL`` survives a process crash (what the harness does to us); only a
power cut could lose the last transactions, which is outside what fracas tests.

The store is used from the event loop thread only; each statement takes microseconds,
so a thread hop would cost more than it saves. Commits are *grouped*: ``save`` writes
into an open transaction and ``durable()`` (awaited by a saga before any call to a
service, and by the API before it answers) commits everything written so far, once
for all the sagas that reached that point in the same turn of the event loop. The
invariant is unchanged - nothing leaves the process before the state that led to it
is on disk - at a fraction of the commits. API reads go through a second connection
that sees only committed rows, so nobody is ever told a state a crash could undo.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fracas.orchestrator.storage import fail_stop, is_storage_error

ACTIVE = ("pending", "running")
WAITING = ("awaiting_review",)
TERMINAL = ("completed", "failed", "needs_attention")
STATUSES = ACTIVE + WAITING + TERMINAL

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    step TEXT NOT NULL,
    reason TEXT,
    ctx TEXT NOT NULL,
    review_deadline REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    t REAL NOT NULL,
    step TEXT NOT NULL,
    attempt INTEGER,
    outcome TEXT NOT NULL,
    duration_ms REAL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_order ON events (order_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    body TEXT NOT NULL
);
"""


@dataclass
class OrderRow:
    order_id: str
    body: str
    status: str
    step: str
    reason: str | None
    ctx: dict[str, Any]
    review_deadline: float | None
    created_at: float
    updated_at: float

    @property
    def order(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Event:
    order_id: str
    step: str
    outcome: str
    attempt: int | None = None
    duration_ms: float | None = None
    detail: dict[str, Any] | None = None
    t: float = 0.0


def canonical(body: dict[str, Any]) -> str:
    """One text per order, so 'the same order again' is a string comparison."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


class Store:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / "orchestrator.sqlite3"
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        # Checkpoints (which fsync) run in a thread of their own, never in a commit on
        # the event loop, where one would stall every saga for as long as the disk takes.
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        self.db.executescript(_SCHEMA)
        self.ro = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.ro.execute("PRAGMA busy_timeout=5000")
        self._in_txn = False
        self._sync = False
        self._flush: asyncio.Future[None] | None = None
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="wal-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=5000")
        try:
            while not self._stop.wait(1.0):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass
        finally:
            db.close()

    def close(self) -> None:
        self.commit()
        self._stop.set()
        self._checkpointer.join(5.0)
        self.ro.close()
        self.db.close()

    # -- grouped commits -----------------------------------------------------------------
    def _begin(self) -> None:
        """Open the shared transaction; it commits at the end of this loop turn at latest."""
        if self._in_txn:
            return
        self.db.execute("BEGIN")
        self._in_txn = True
        try:
            asyncio.get_running_loop().call_soon(self.commit)
            self._sync = False
        except RuntimeError:  # no event loop (tools, tests): commit as we go
            self._sync = True

    def _end(self) -> None:
        if self._sync:
            self.commit()

    def commit(self) -> None:
        if self._in_txn:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                if is_storage_error(exc):
                    fail_stop(self.path.parent, exc)
                raise
            self._in_txn = False
        flush, self._flush = self._flush, None
        if flush is not None and not flush.done():
            flush.set_result(None)

    async def durable(self) -> None:
        """Return once everything saved so far is committed (one commit per loop turn)."""
        if not self._in_txn:
            return
        if self._flush is None:
            self._flush = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._flush)

    # -- orders ------------------------------------------------------------------------
    def create(self, order_id: str, body: str, ctx: dict[str, Any]) -> tuple[OrderRow, bool]:
        """Insert a new pending order, or return the one already under that id."""
        now = time.time()
        self._begin()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO orders (order_id, body, status, step, reason, ctx,"
            " review_deadline, created_at, updated_at) VALUES (?, ?, 'pending', 'customer',"
            " NULL, ?, NULL, ?, ?)",
            (order_id, body, json.dumps(ctx), now, now),
        )
        created = cur.rowcount == 1
        row = self.get(order_id)
        assert row is not None
        if created:
            self._event(Event(order_id, "submit", "pending", t=now))
        self._end()
        return row, created

    def get(self, order_id: str, committed: bool = False) -> OrderRow | None:
        """The saga's own view, or with `committed` only what a crash cannot undo."""
        r = (self.ro if committed else self.db).execute(
            "SELECT order_id, body, status, step, reason, ctx, review_deadline, created_at,"
            " updated_at FROM orders WHERE order_id = ?",
            (order_id,),
        ).fetchone()
        return _row(r) if r else None

    def save(
        self,
        order_id: str,
        status: str,
        step: str,
        reason: str | None,
        ctx: dict[str, Any],
        review_deadline: float | None,
        events: Iterable[Event] = (),
    ) -> None:
        """Persist one transition (row + its events) atomically."""
        now = time.time()
        self._begin()
        self.db.execute(
            "UPDATE orders SET status = ?, step = ?, reason = ?, ctx = ?,"
            " review_deadline = ?, updated_at = ? WHERE order_id = ?",
            (status, step, reason, json.dumps(ctx), review_deadline, now, order_id),
        )
        for event in events:
            event.t = event.t or now
            self._event(event)
        self._end()

    def append(self, event: Event) -> None:
        """An event that changes nothing in the row (a resume after a restart)."""
        self._begin()
        self._event(event)
        self._end()

    def _event(self, e: Event) -> None:
        self.db.execute(
            "INSERT INTO events (order_id, t, step, attempt, outcome, duration_ms, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                e.order_id,
                e.t or time.time(),
                e.step,
                e.attempt,
                e.outcome,
                e.duration_ms,
                json.dumps(e.detail) if e.detail is not None else None,
            ),
        )

    def list_orders(self, status: str | None = None, limit: int = 1000) -> list[OrderRow]:
        sql = (
            "SELECT order_id, body, status, step, reason, ctx, review_deadline, created_at,"
            " updated_at FROM orders"
        )
        args: tuple[Any, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            args = (status,)
        sql += " ORDER BY created_at LIMIT ?"
        return [_row(r) for r in self.ro.execute(sql, (*args, limit))]

    def ids_with_status(self, statuses: Iterable[str]) -> list[str]:
        marks = ",".join("?" for _ in statuses)
        return [
            r[0]
            for r in self.db.execute(
                f"SELECT order_id FROM orders WHERE status IN ({marks}) ORDER BY created_at",
                tuple(statuses),
            )
        ]

    def review_due(self, now: float) -> list[str]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT order_id FROM orders WHERE status = 'awaiting_review'"
                " AND review_deadline <= ?",
                (now,),
            )
        ]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for status, n in self.ro.execute("SELECT status, count(*) FROM orders GROUP BY status"):
            counts[status] = n
        return counts

    def events(self, order_id: str) -> list[dict[str, Any]]:
        return [
            {
                "seq": seq,
                "t": t,
                "step": step,
                "attempt": attempt,
                "outcome": outcome,
                "duration_ms": duration_ms,
                "detail": json.loads(detail) if detail else None,
            }
            for seq, t, step, attempt, outcome, duration_ms, detail in self.ro.execute(
                "SELECT seq, t, step, attempt, outcome, duration_ms, detail FROM events"
                " WHERE order_id = ? ORDER BY seq",
                (order_id,),
            )
        ]

    # -- the outbox (the event side, outbox.py) ----------------------------------------
    def outbox_add(self, event: str, msg_id: str, body: dict[str, Any]) -> None:
        """Queue an event in the open transaction: called right after ``save``, with no
        await between, it commits with the state change it announces or not at all."""
        self._begin()
        self.db.execute(
            "INSERT INTO outbox (event, msg_id, body) VALUES (?, ?, ?)",
            (event, msg_id, json.dumps(body)),
        )
        self._end()

    def outbox_pending(self) -> list[tuple[int, str, str, dict[str, Any]]]:
        """Committed rows only: an event must never leave before its state change is on disk."""
        rows = self.ro.execute("SELECT id, event, msg_id, body FROM outbox ORDER BY id")
        return [(i, e, m, json.loads(b)) for i, e, m, b in rows.fetchall()]

    def outbox_sent(self, row_id: int) -> None:
        self._begin()
        self.db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
        self._end()

    # -- meta --------------------------------------------------------------------------
    def meta_get(self, key: str) -> str | None:
        r = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if r is None else str(r[0])

    def meta_set(self, key: str, value: str) -> None:
        self._begin()
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        self._end()


def _row(r: tuple[Any, ...]) -> OrderRow:
    return OrderRow(
        order_id=r[0],
        body=r[1],
        status=r[2],
        step=r[3],
        reason=r[4],
        ctx=json.loads(r[5]),
        review_deadline=r[6],
        created_at=r[7],
        updated_at=r[8],
    )
