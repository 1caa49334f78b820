"""The embedded fault proxy's server killed with SIGKILL ten times while 200 orders run
through the bundled orchestrator: the harness notices each death, starts the server
again on its port with every proxy back on its address, and says so in the run's report
and its terminal line; no order is lost and none is left inconsistent (issue 21)."""

from __future__ import annotations

import os
import random
import signal
import threading
from collections.abc import Callable

import httpx
import pytest

from fracas.harness.kit.waiting import wait_until
from fracas.harness.run.runner import RunOptions, run
from fracas.harness.run.topology import Topology
from fracas.harness.run.workload import mixed

KILLS = 10


def _ended(topo: Topology) -> int:
    """Orders the bundled orchestrator has ended (its GET /orders lists them)."""
    try:
        got = httpx.get(f"{topo.orchestrator.url}/orders", params={"limit": 100000}, timeout=2.0)
        return sum(o["status"] in ("completed", "failed") for o in got.json()["orders"])
    except (httpx.HTTPError, ValueError, KeyError):
        return -1


@pytest.mark.slow
def test_the_fault_proxy_killed_ten_times_under_200_orders(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(seed=3)
    assert topo.watch is not None and topo.backend.name == "embedded"
    plans = mixed(200, seed=3)
    # kill moments as progress (orders ended so far), drawn from a seed, so every kill
    # lands with orders at every step whatever the machine's speed
    thresholds = sorted(random.Random(21).sample(range(2, 150), KILLS))
    killed: list[int] = []
    failure: list[BaseException] = []

    def storm() -> None:
        try:
            for i, threshold in enumerate(thresholds):
                wait_until(lambda t=threshold: _ended(topo) >= t, 120.0, interval=0.02,
                           what=f"{threshold} orders ended before kill {i + 1}")  # fmt: skip
                pid = topo.backend.process.pid  # type: ignore[attr-defined]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                wait_until(lambda n=i + 1: len(topo.watch.restarts) >= n, 30.0,  # type: ignore[union-attr]
                           what=f"the harness noticing kill {i + 1}")  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - the test's thread reports it
            failure.append(exc)

    killer = threading.Thread(target=storm, daemon=True)
    killer.start()
    result = run(topo, plans, options=RunOptions(settle_seconds=120))
    killer.join(150.0)
    assert not failure, failure
    assert len(killed) == KILLS and len(set(killed)) == KILLS  # a new server each time
    restarts = result.history.meta.get("proxy_restarts", [])
    assert len(restarts) == KILLS
    assert all(r["exit_code"] == -signal.SIGKILL and r["proxies"] == 5 for r in restarts)
    assert all("fault proxy's server died (signal 9)" in r["said"] for r in restarts)
    ended = {oid: s for oid, s in result.statuses.items() if s in ("completed", "failed")}
    assert len(ended) == 200, sorted(set(map(str, result.statuses.values())))
    result.assert_consistent()
