"""The naive orchestrator's later planted bugs are real: each, under the fault that should
expose it, breaks the rule its docstring names, and the naive orchestrator with no bug
stays consistent under the same run. Without this, a search that "misses" one of them
could be missing a bug that was never there.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from harness_helpers import naive_spec

from fracas.harness.run.runner import RunOptions, run
from fracas.harness.run.workload import OrderPlan, orders


def http_fault(
    kind: str, service: str, path: str, phase: str = "after_commit", **action: Any
) -> dict[str, Any]:
    """One HTTP fault on the first order's call, once."""
    params = {"path": path, "method": "POST", "phase": phase, "times": 1,
              "order_id": "ord-0001", **action}  # fmt: skip
    return {"fault": {"kind": kind, "target": service, "params": params}, "at": 0}


def crash_after(service: str, path: str) -> dict[str, Any]:
    """Kill the orchestrator the moment the first order's call commits; restart at once."""
    return {"fault": {"kind": "kill", "target": "orchestrator"},
            "when": {"service": service, "path": path, "order_id": "ord-0001",
                     "phase": "after_commit"}, "for": 0}  # fmt: skip


def same_customer(plans: list[OrderPlan]) -> list[OrderPlan]:
    """Every order for the first order's customer."""
    who = plans[0].order["customer_id"]
    return [dataclasses.replace(p, order={**p.order, "customer_id": who}) for p in plans]


CASES: list[tuple[str, list[str], list[dict[str, Any]], str]] = [
    # bug, intents, schedule, rule that must be named for ord-0001 (or ord-0002)
    # The capture commits; its answer comes after the naive orchestrator's 5 s call timeout.
    ("timeout-declined", ["ok"],
     [http_fault("delay", "payment", "/payments", "after_commit", ms=6500)], "failed-ledger"),
    # Two crashes of one order: the first restart resumes it, the second does not.
    ("resume-once", ["ok"],
     [crash_after("payment", "/payments"), crash_after("inventory", "/reservations")],
     "liveness"),
    ("resume-pending", ["ok"], [crash_after("payment", "/payments")], "liveness"),
    # Undeliverable: the stock is released first, then the crash; the refund never comes.
    ("fail-first", ["undeliverable"],
     [crash_after("inventory", "/reservations/{reservation_id}/release")], "failed-ledger"),
    ("confirm-early", ["out_of_stock"], [], "failed-ledger"),
    ("customer-key", ["ok"], [], "completed-ledger"),
]


def plans_for(bug: str, intents: list[str]) -> list[OrderPlan]:
    plans = orders(2, intents=intents)
    return same_customer(plans) if bug == "customer-key" else plans


@pytest.mark.parametrize(("bug", "intents", "schedule", "rule"), CASES, ids=[c[0] for c in CASES])
def test_each_later_planted_bug_breaks_its_rule(
    start_topology: Any, bug: str, intents: list[str], schedule: list[Any], rule: str
) -> None:
    topo = start_topology(naive_spec(bug))
    result = run(topo, plans_for(bug, intents), schedule, RunOptions(settle_seconds=30),
                 reset=False)  # fmt: skip
    assert {v.rule for v in result.verdict.violations} >= {rule}, result.verdict.violations
    assert result.nemesis.never_triggered == []
    assert result.timings["settle"] < 25, "a stuck order waited out the settle time"


def test_the_naive_orchestrator_without_bugs_passes_these_runs(start_topology: Any) -> None:
    """The same runs with no bug: consistent, every fault fired, every order terminal."""
    topo = start_topology(naive_spec())
    for i, (bug, intents, schedule, _) in enumerate(CASES):
        result = run(topo, plans_for(bug, intents), schedule, RunOptions(settle_seconds=30),
                     reset=i > 0)  # fmt: skip
        result.assert_consistent()
        assert result.nemesis.never_triggered == [], bug
        assert set(result.statuses.values()) <= {"completed", "failed"}, bug


def test_the_ledgers_are_read_once_an_ended_order_is_quiet(start_topology: Any) -> None:
    """fail-first saves the order failed, then refunds it. With the refund's first try
    reset, its retry came a moment after the order read "failed": the ledgers, read at
    once, showed a failed order still charged (failed-ledger), a case that replayed 2
    times in 5. The contract checks after quiescence: the ended order is read once it
    has been quiet, and then it is consistent; the crash while compensating (above)
    still breaks the rule every time."""
    topo = start_topology(naive_spec("fail-first"))
    reset = http_fault("reset", "payment", "/payments/{payment_id}/refunds", "before_commit")
    reset["fault"]["params"]["path"] = "/payments/*/refunds"
    for i in range(3):
        result = run(topo, orders(1, intents=["undeliverable"]), [reset],
                     RunOptions(settle_seconds=30), reset=i > 0)  # fmt: skip
        result.assert_consistent()
        assert result.statuses == {"ord-0001": "failed"}
        assert any(result.entry_hits.values()), "the reset never fired"
