"""fracas catches real orchestrator bugs, from real runs, and names the order and rule.

Each case runs the naive example orchestrator with one classic mistake switched on,
under the fault that exposes it, and checks the verdict. The same orchestrator with
no bug switched on passes the same runs: no false alarms.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness_helpers import naive_spec

from harness.runner import ConsistencyError, RunOptions, run
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
    result = run(topo, plans, schedule, RunOptions(settle_seconds=3), reset=False)
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


# -- bugs in a service itself ----------------------------------------------------------
# An orchestrator cannot break stock conservation or make one idempotency key give two
# effects through a correct service: these rules guard the services. The runs are real;
# the ledger is then changed behind the fake's back, as a bug in a real service would.


def corrupt(topo, service: str, sql: str, *params: object) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    (db,) = [p for p in topo.fakes[service].state_dir.glob("*.sqlite3")]
    with sqlite3.connect(db) as conn:
        conn.execute(sql, params)


def test_stock_leak_in_the_inventory_service_is_named(start_topology) -> None:
    from harness.checkers import Snapshot, check

    topo = start_topology(naive_spec())
    plans = orders(2)
    result = run(topo, plans, [], reset=False).assert_consistent()
    sku = plans[0].order["lines"][0]["sku"]
    corrupt(topo, "inventory", "UPDATE stock SET on_hand = on_hand - 1 WHERE sku = ?", sku)
    snapshot = Snapshot(topo.ledgers(), result.snapshot.orders, result.snapshot.reported,
                        result.history, result.snapshot.settle)
    verdict = check(snapshot)
    stock = [v for v in verdict.violations if v.rule == "stock-conservation"]
    assert stock and sku in stock[0].message


def test_one_key_two_effects_in_the_payment_service_is_named(start_topology) -> None:
    from harness.checkers import Snapshot, check

    topo = start_topology(naive_spec())
    plans = orders(1)
    result = run(topo, plans, [], reset=False).assert_consistent()
    corrupt(topo, "payment",
            "INSERT INTO payments (payment_id, order_id, amount_cents, currency, card_token, "
            "status, refunded_cents, idempotency_key, correlation_id, created_at) "
            "SELECT 'pay-dup', order_id, amount_cents, currency, card_token, status, "
            "refunded_cents, idempotency_key, correlation_id, created_at FROM payments")
    snapshot = Snapshot(topo.ledgers(), result.snapshot.orders, result.snapshot.reported,
                        result.history, result.snapshot.settle)
    named = {(v.rule, v.order_id) for v in check(snapshot).violations}
    assert ("idempotency", plans[0].order_id) in named
    assert ("double-charge", plans[0].order_id) in named
