"""When an unfinished order has stopped moving, so a run can call it stuck in seconds.

A fixed settle time made every failing example of a liveness bug wait it out (45 s in
the property scenario, twice per shrink step: one search took 789 s). An order is
judged stuck instead once nothing of it has moved for a quiet period, with every fault
healed and the orchestrator answering. Movement is what a live order leaves behind: a
status change, a line in a fake's journal with its order id or correlation id (a call
answered), or a request of it parked in a fake. A correct orchestrator waiting out a
slow call moves again by its own call timeout at the latest (the call answers, or it
gives up and retries), so the quiet period is ``max(3 s, 2 x call_timeout)``, times the
machine's time scale: twice the timeout leaves room for the retry's own round trip.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from fracas.harness.faults.http import held_requests
from fracas.harness.kit.timescale import scaled

#: The shortest quiet period, in seconds before the time scale: below it a poll round
#: or two of a busy machine could pass for stillness.
MIN_QUIET = 3.0
#: How often the fakes' journals and held requests are read, in seconds: the quiet
#: period is seconds long, so a finer look only costs admin calls.
LOOK_EVERY = 0.25


def quiet_period(call_timeout: float) -> float:
    """Seconds an unfinished order must show no movement to be judged stuck."""
    return scaled(max(MIN_QUIET, 2 * call_timeout))


@dataclass
class Movement:
    """The last time each order moved, read from statuses, journals and held requests."""

    admin_urls: Mapping[str, str]
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=scaled(2.0)))
    last_moved: dict[str, float] = field(default_factory=dict)
    _cursors: dict[str, int] = field(default_factory=dict)
    _next_look: float = 0.0

    def moved(self, order_id: str, now: float | None = None) -> None:
        self.last_moved[order_id] = time.monotonic() if now is None else now

    def restart_clock(self, orders: Iterable[str], now: float) -> None:
        """Every order counts as having just moved: quiet is measured from here on (from
        the last heal, when the settle phase starts). A later movement seen already
        stands."""
        for oid in orders:
            self.moved(oid, max(now, self.last_moved.get(oid, now)))

    def look(self, orders: set[str], now: float) -> None:
        """Read what the fakes did since the last look (at most every LOOK_EVERY s)."""
        if now < self._next_look:
            return
        self._next_look = now + LOOK_EVERY
        for name, url in self.admin_urls.items():
            try:
                for line in self._new_lines(name, url):
                    self._mark(orders, line, now)
                for held in held_requests(self.client, url):
                    self._mark(orders, held, now)
            except (httpx.HTTPError, ValueError):
                continue  # a fake that is down moves nothing; the heal brings it back

    def _new_lines(self, name: str, url: str) -> list[dict[str, Any]]:
        since = self._cursors.get(name, 0)
        page = self.client.get(f"{url}/_fracas/journal", params={"since": since}).json()
        self._cursors[name] = int(page.get("next", since))
        return list(page.get("entries") or [])

    def _mark(self, orders: set[str], item: Mapping[str, Any], now: float) -> None:
        for key in ("order_id", "correlation_id"):
            oid = item.get(key)
            if isinstance(oid, str) and oid in orders:
                self.moved(oid, now)

    def quiet(self, order_id: str, now: float, period: float) -> bool:
        since = self.last_moved.get(order_id)
        return since is not None and now - since >= period

    def close(self) -> None:
        self.client.close()
