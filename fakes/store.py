"""The SQLite ledger of one fake: its service tables, the journal and idempotency keys.

WAL with ``synchronous=NORMAL`` makes a commit durable against a crash of the process
(SIGKILL), which is the failure fracas injects; only a power cut could lose the last
commits. One connection, used only from the event loop thread, so every transaction
runs without interleaving and needs no locks.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fracas.fakes.service import Answer, Service
from fracas.fakes.world import World

_COMMON_DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # AUTOINCREMENT so that seq keeps counting across reset: a reader's cursor stays valid.
    "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
        body TEXT NOT NULL, problem INTEGER NOT NULL, effect_id TEXT, order_id TEXT)""",
]


class Store:
    def __init__(self, path: Path, service: Service) -> None:
        self.path = Path(path)
        self.service = service
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        for ddl in (*_COMMON_DDL, *service.ddl):
            self.db.execute(ddl)

    # -- transactions ----------------------------------------------------------------
    @contextmanager
    def txn(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a COMMIT the disk refuses (full, read-only) is rolled back
        too, so the next request starts clean and the ledger holds only whole effects."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    @contextmanager
    def dry_run(self) -> Iterator[sqlite3.Connection]:
        """A transaction that is always rolled back: what the answer *would* be."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        finally:
            self.db.execute("ROLLBACK")

    # -- world -----------------------------------------------------------------------
    @property
    def seed(self) -> int | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'seed'").fetchone()
        return None if row is None else int(row[0])

    def reset(self, world: World) -> None:
        """Wipe every table and load the world, in one transaction."""
        with self.txn() as db:
            for table in self.service.tables:
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM idempotency")
            db.execute("DELETE FROM journal")
            self.service.seed(db, world)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('seed', ?)", (str(world.seed),)
            )

    def state(self) -> dict[str, Any]:
        return {
            "service": self.service.name,
            "seed": self.seed,
            "tables": self.service.state(self.db),
        }

    # -- journal ---------------------------------------------------------------------
    def journal(self, entry: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO journal (entry) VALUES (?)", (json.dumps(entry),))

    def journal_since(self, since: int, limit: int) -> tuple[list[str], int]:
        """Raw JSON entries with seq > since, and the cursor to pass next."""
        rows = self.db.execute(
            "SELECT seq, entry FROM journal WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit)
        ).fetchall()
        entries = [f'{{"seq": {seq}, {entry[1:]}' for seq, entry in rows]
        return entries, (rows[-1][0] if rows else since)

    # -- idempotency -----------------------------------------------------------------
    def recall(self, key: str) -> tuple[str, Answer] | None:
        row = self.db.execute(
            "SELECT fingerprint, status, body, problem, effect_id, order_id "
            "FROM idempotency WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        fingerprint, status, body, problem, effect_id, order_id = row
        answer = Answer(status, json.loads(body), effect_id, order_id, bool(problem), True, body)
        return fingerprint, answer

    def remember(self, key: str, fingerprint: str, answer: Answer) -> None:
        self.db.execute(
            "INSERT INTO idempotency (key, fingerprint, status, body, problem, effect_id, order_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                fingerprint,
                answer.status,
                answer.encoded(),
                int(answer.problem),
                answer.effect_id,
                answer.order_id,
            ),
        )
