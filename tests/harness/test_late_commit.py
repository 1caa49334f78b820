"""A late commit lands in the run: a request delayed before its commit past the
orchestrator's call timeout commits after the orchestrator gave up on it, and the run
reads the ledgers only after that (harness/run/drain.py). Before, the settle phase ended
as soon as every order was terminal, and an orchestrator that took the timeout as a
refusal left a failed order whose capture landed unseen, a second after the snapshot.
"""

from __future__ import annotations

from typing import Any

from harness_helpers import naive_spec

from fracas.harness.run.runner import RunOptions, run
from fracas.harness.run.workload import orders

#: The naive orchestrator's call timeout is 5 s: the capture commits 3 s after it gave up.
LATE_MS = 8000


def late_capture() -> list[dict[str, Any]]:
    params = {"path": "/payments", "method": "POST", "phase": "before_commit", "times": 1,
              "order_id": "ord-0001", "ms": LATE_MS}  # fmt: skip
    return [{"fault": {"kind": "delay", "target": "payment", "params": params}, "at": 0}]


def captures(result: Any) -> list[dict[str, Any]]:
    rows = result.snapshot.table("payment", "payments")
    return [r for r in rows if r.get("order_id") == "ord-0001"]


def test_a_capture_that_commits_after_the_timeout_taken_as_a_refusal_breaks_failed_ledger(
    start_topology: Any,
) -> None:
    topo = start_topology(naive_spec("timeout-declined"))
    result = run(topo, orders(1, intents=["ok"]), late_capture(), RunOptions(settle_seconds=30),
                 reset=False)  # fmt: skip
    assert result.statuses == {"ord-0001": "failed"}
    assert len(captures(result)) == 1, "the late capture is in the ledger the run read"
    assert "failed-ledger" in {v.rule for v in result.verdict.violations}
    assert result.history.meta["left_in_fakes"] == []


def test_the_same_late_capture_with_no_bug_is_consistent(start_topology: Any) -> None:
    """The naive orchestrator retries with the same key: the retry commits, and the late
    request, committing after it, is answered from the key (one capture)."""
    topo = start_topology(naive_spec())
    result = run(topo, orders(1, intents=["ok"]), late_capture(), RunOptions(settle_seconds=30),
                 reset=False)  # fmt: skip
    result.assert_consistent()
    assert result.statuses == {"ord-0001": "completed"}
    assert len(captures(result)) == 1
    assert result.history.meta["left_in_fakes"] == []
