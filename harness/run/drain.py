"""The run's last wait: every request inside a fake has left before the ledgers are read.

A request can outlive its client. A ``delay`` before the commit that outlasts the
orchestrator's call timeout commits after the orchestrator gave up on it: the late
commit, the classic incident of payment integrations. The settle phase ends once every
order is terminal, which an orchestrator that took the timeout as a refusal reaches
first; a snapshot taken then shows a ledger without the late effect, and the run looks
consistent. So the runner waits, with a deadline, until none of the requests the fakes
were serving when settling ended is left (``GET /_fracas/in-flight``); requests that
arrive meanwhile do not hold it up (a retry loop would never let it end).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from fracas.fakes.contract import IN_FLIGHT_PATH
from fracas.harness.kit.timescale import scaled
from fracas.harness.kit.waiting import DeadlineExceeded, wait_until

#: How often the fakes are asked, in seconds.
LOOK_EVERY = 0.05


def _in_flight(client: httpx.Client, url: str) -> dict[Any, dict[str, Any]]:
    """The requests one fake is serving, by id; none from a fake that cannot answer (a
    fake that is down serves nothing, and its ledger is what it committed)."""
    try:
        page = client.get(f"{url}{IN_FLIGHT_PATH}").json()
    except (httpx.HTTPError, ValueError):
        return {}
    return {r.get("id"): r for r in page.get("requests") or [] if isinstance(r, dict)}


def wait_for_fakes(admin_urls: Mapping[str, str], until: float) -> list[dict[str, Any]]:
    """Wait until the requests each fake is serving now have all left, or ``until``
    (``time.monotonic()``) passes; the ones still there then, each with its fake's name."""
    with httpx.Client(timeout=scaled(2.0)) as client:
        waiting = {name: _in_flight(client, url) for name, url in admin_urls.items()}

        def gone() -> bool:
            for name, seen in waiting.items():
                if seen:
                    now = _in_flight(client, admin_urls[name])
                    waiting[name] = {i: r for i, r in seen.items() if i in now}
            return not any(waiting.values())

        if any(waiting.values()):
            try:
                wait_until(gone, max(0.0, until - time.monotonic()), interval=LOOK_EVERY,
                           what="the requests inside the fakes to leave")  # fmt: skip
            except DeadlineExceeded:
                pass  # what is left is the answer
    return [{"service": name, **r} for name, left in waiting.items() for r in left.values()]
