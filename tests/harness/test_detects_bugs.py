"""fracas catches real orchestrator bugs, from real runs, and names the order and rule.

Each case runs the naive example orchestrator with one classic mistake switched on,
under the fault that exposes it, and checks the verdict. The same orchestrator with
no bug switched on passes the same runs: no false alarms.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness_helpers import naive_spec

from fracas.fakes.world import build_world
from fracas.harness.run.runner import ConsistencyError, RunOptions, run
from fracas.harness.run.workload import OrderPlan, orders


def after_commit(kind: str, service: str, path: str, **action: Any) -> list[dict[str, Any]]:
    """One HTTP fault on the first order's step, after its effect is made: it lands on the
    same step however orders interleave."""
    params = {"path": path, "method": "POST", "phase": "after_commit", "times": 1,
              "order_id": "ord-0001", **action}
    return [{"fault": {"kind": kind, "target": service, "params": params}, "at": 0}]


def crash_after(service: str, path: str) -> list[dict[str, Any]]:
    """Kill the orchestrator the moment the first order's step commits; restart at once."""
    return [{"fault": {"kind": "kill", "target": "orchestrator"},
             "when": {"service": service, "path": path, "order_id": "ord-0001",
                      "phase": "after_commit"}, "for": 0}]


CASES = [
    # bug, intents, schedule, rule that must be named
    ("no-idempotency", ["ok"], after_commit("drop", "payment", "/payments"), "double-charge"),
    ("key-per-attempt", ["ok"], after_commit("drop", "payment", "/payments"), "double-charge"),
    ("unkeyed-notify", ["ok"], crash_after("notify", "/messages"), "completed-ledger"),
    ("first-5xx", ["ok"], after_commit("status", "payment", "/payments", status=503),
     "failed-ledger"),
    ("trust-answers", ["ok"],
     after_commit("malformed", "payment", "/payments", shape="missing_fields"), "failed-ledger"),
    ("give-up", ["ok"], [{"fault": {"kind": "kill", "target": "shipping"}, "at": 0, "for": 1.5}],
     "needs-attention"),
    ("review-timeout", ["review_timeout"], [], "liveness"),
    ("no-compensation", ["out_of_stock"], [], "failed-ledger"),
    ("optimistic", ["out_of_stock"], [], "completed-ledger"),
    ("bad-report", ["ok"], [], "reported-truth"),
]


@pytest.mark.parametrize(("bug", "intents", "schedule", "rule"), CASES,
                         ids=[c[0] for c in CASES])
def test_bug_is_caught_with_its_witness(start_topology, bug, intents, schedule, rule) -> None:
    topo = start_topology(naive_spec(bug))
    plans = orders(2, intents=intents)
    result = run(topo, plans, schedule, RunOptions(settle_seconds=5), reset=False)
    assert not result.ok
    named = {(v.rule, v.order_id) for v in result.verdict.violations}
    assert (rule, plans[0].order_id) in named, named
    with pytest.raises(ConsistencyError) as info:
        result.assert_consistent()
    text = str(info.value)
    assert rule in text and plans[0].order_id in text


def test_the_naive_orchestrator_without_bugs_passes_the_same_runs(start_topology) -> None:
    """No false alarms: every run above, and both line-by-line runs, are consistent with no
    bug, and each order ends where its intent says."""
    topo = start_topology(naive_spec())
    want = {"ok": "completed", "review_timeout": "failed", "out_of_stock": "failed"}
    for i, (_, intents, schedule, _) in enumerate(CASES):
        plans = orders(2, intents=intents)
        result = run(topo, plans, schedule, RunOptions(settle_seconds=5), reset=i > 0)
        result.assert_consistent()
        assert result.nemesis.never_triggered == [], schedule
        assert set(result.statuses.values()) == {want[intents[0]]}
    for plan in line_by_line_plans():
        run(topo, [plan], []).assert_consistent()


def line_by_line_plans() -> list[OrderPlan]:
    """An order of two lines that can be served, and one whose second line cannot."""
    world = build_world(0)
    two = next(p for p in orders(10) if len(p.order["lines"]) >= 2)
    low = world.low_stock_skus()[0]
    short = {"sku": low.sku, "qty": low.on_hand + 1, "unit_price_cents": low.price_cents}
    leak = {**two.order, "order_id": "ord-0100", "lines": [two.order["lines"][0], short]}
    return [two, OrderPlan(leak, "out_of_stock")]


def test_line_by_line_reservations_are_named(start_topology) -> None:
    """Two reservations for one order (completed-ledger); a later line out of stock leaves
    the earlier lines held (failed-ledger)."""
    topo = start_topology(naive_spec("line-by-line"))
    two, leak = line_by_line_plans()
    named = {(v.rule, v.order_id) for v in run(topo, [two], [], reset=False).verdict.violations}
    assert ("completed-ledger", two.order_id) in named, named
    result = run(topo, [leak], [])
    failed = [v for v in result.verdict.violations if v.rule == "failed-ledger"]
    assert failed and "still held" in failed[0].message, result.verdict.violations


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



def test_a_forgotten_order_does_not_hold_the_workload_open_for_a_later_trigger(
    start_topology,
) -> None:
    """The crash makes the orchestrator forget ord-0001, so the trigger on its reservation
    can never fire. The workload phase ends once the order has been 404 for a while
    instead of at its 120 s limit (what every failing amnesia example cost the search),
    and the verdict is the same liveness violation."""
    topo = start_topology(naive_spec("amnesia"))
    plans = orders(1)
    oid = plans[0].order_id
    schedule = [
        {"fault": {"kind": "kill", "target": "orchestrator"}, "for": 0.2,
         "when": {"service": "payment", "path": "/payments", "order_id": oid,
                  "phase": "before_commit"}},
        {"fault": {"kind": "pause", "target": "payment"}, "for": 0.1, "may_not_fire": True,
         "when": {"service": "inventory", "path": "/reservations", "order_id": oid,
                  "phase": "after_commit"}},
    ]  # fmt: skip
    result = run(topo, plans, schedule, RunOptions(settle_seconds=5), reset=False)
    assert ("liveness", oid) in {(v.rule, v.order_id) for v in result.verdict.violations}
    assert result.timings["workload"] < 30, result.timings
    assert result.nemesis.never_triggered == [1]

def test_orphan_effect_is_named(start_topology) -> None:
    topo = start_topology(naive_spec("probe"))
    result = run(topo, orders(1), [], reset=False)
    orphans = [v for v in result.verdict.violations if v.rule == "orphan-effects"]
    assert orphans and "probe" in str([v.to_json() for v in orphans])


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
    from fracas.harness.checkers import Snapshot, check

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
    from fracas.harness.checkers import Snapshot, check

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
