"""fracas catches real orchestrator bugs, from real runs, and names the order and rule.

Each case runs the naive example orchestrator with one classic mistake switched on,
under the fault that exposes it, and checks the verdict. The same orchestrator with
no bug switched on passes the same runs: no false alarms.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness_helpers import naive_spec

from harness.runner import ConsistencyError, run
from harness.workload import orders


def drop_after_commit(service: str, path: str) -> list[dict[str, Any]]:
    """Pinned to the first order, so it lands on the same step however orders interleave."""
    params = {"path": path, "method": "POST", "phase": "after_commit", "times": 1,
              "order_id": "ord-0001"}
    return [{"fault": {"kind": "drop", "target": service, "params": params}, "at": 0}]


CASES = [
    # bug, intents, schedule, rule that must be named
    ("no-idempotency", ["ok"], drop_after_commit("payment", "/payments"), "double-charge"),
    ("no-compensation", ["out_of_stock"], [], "failed-ledger"),
    ("optimistic", ["out_of_stock"], [], "completed-ledger"),
    ("bad-report", ["ok"], [], "reported-truth"),
    ("give-up", ["ok"], [{"fault": {"kind": "down", "target": "shipping"}, "at": 0}],
     "needs-attention"),
]


@pytest.mark.parametrize(("bug", "intents", "schedule", "rule"), CASES,
                         ids=[c[0] for c in CASES])
def test_bug_is_caught_with_its_witness(start_topology, bug, intents, schedule, rule) -> None:
    topo = start_topology(naive_spec(bug))
    plans = orders(2, intents=intents)
    result = run(topo, plans, schedule, reset=False)
    assert not result.ok
    named = {(v.rule, v.order_id) for v in result.verdict.violations}
    assert (rule, plans[0].order_id) in named, named
    with pytest.raises(ConsistencyError) as info:
        result.assert_consistent()
    text = str(info.value)
    assert rule in text and plans[0].order_id in text


def test_amnesia_is_a_liveness_violation(start_topology) -> None:
    """An orchestrator that keeps orders in memory forgets them when it crashes."""
    topo = start_topology(naive_spec("amnesia"))
    plans = orders(3)
    schedule = [{"fault": {"kind": "kill", "target": "orchestrator"},
                 "when": {"service": "payment", "path": "/payments",
                          "order_id": plans[0].order_id, "phase": "after_commit"},
                 "for": 0}]
    result = run(topo, plans, schedule, reset=False)
    assert (("liveness", plans[0].order_id) in
            {(v.rule, v.order_id) for v in result.verdict.violations})


def test_orphan_effect_is_named(start_topology) -> None:
    topo = start_topology(naive_spec("probe"))
    result = run(topo, orders(1), [], reset=False)
    orphans = [v for v in result.verdict.violations if v.rule == "orphan-effects"]
    assert orphans and "probe" in str([v.to_json() for v in orphans])


def test_the_naive_orchestrator_without_bugs_passes_the_same_runs(start_topology) -> None:
    topo = start_topology(naive_spec())
    for i, (_, intents, schedule, _) in enumerate(CASES[:2]):
        result = run(topo, orders(2, intents=intents), schedule, reset=i > 0)
        result.assert_consistent()
