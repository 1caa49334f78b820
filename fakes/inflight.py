"""The public requests a fake is serving right now, for the harness's last look.

A request can outlive its client: a ``delay`` rule before the commit that outlasts the
orchestrator's call timeout commits after the orchestrator gave up on it (the late
commit). A run that reads the ledgers while such a request is still inside the fake
never sees that effect, so the harness waits, with a deadline, until none of the
requests it saw is left (``GET /_fracas/in-flight``). Requests of a run before the last
reset are not listed: they are cut without an effect when they wake.
"""

from __future__ import annotations

import itertools
import time
from typing import Any


class InFlight:
    """Requests between their body's arrival and their answer (or their cut)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._now: dict[int, dict[str, Any]] = {}

    def enter(self, method: str, path: str, epoch: int) -> int:
        ticket = next(self._ids)
        self._now[ticket] = {"id": ticket, "method": method, "path": path,
                             "since": time.time(), "epoch": epoch}  # fmt: skip
        return ticket

    def leave(self, ticket: int) -> None:
        self._now.pop(ticket, None)

    def view(self, epoch: int) -> dict[str, Any]:
        """What ``GET /_fracas/in-flight`` answers: this run's requests (``epoch``)."""
        mine = [{k: v for k, v in r.items() if k != "epoch"}
                for r in self._now.values() if r["epoch"] == epoch]  # fmt: skip
        return {"in_flight": len(mine), "requests": mine}
