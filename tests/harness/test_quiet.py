"""A stuck order is reported seconds after it went still, not after the settle time, and
an order whose orchestrator is waiting out a slow call is not taken for stuck."""

from __future__ import annotations

from typing import Any

from harness_helpers import naive_spec

from fracas.harness.adapters.base import call_timeout
from fracas.harness.run.quiet import quiet_period
from fracas.harness.run.runner import RunOptions, run
from fracas.harness.run.workload import orders


def test_an_order_waiting_out_a_long_call_is_not_stuck(start_topology: Any) -> None:
    """The first call of the first order takes 4.5 s, most of it after the fault healed:
    longer than 3 s of stillness, shorter than the naive orchestrator's 5 s call timeout,
    so within the quiet period (10 s) and the order completes."""
    topo = start_topology(naive_spec())
    params = {"path": "/customers/{customer_id}", "method": "GET", "phase": "before_commit",
              "times": 1, "order_id": "ord-0001", "ms": 4500}  # fmt: skip
    schedule = [{"fault": {"kind": "delay", "target": "crm", "params": params},
                 "at": 0, "for": 1.0}]  # fmt: skip
    result = run(topo, orders(1), schedule, RunOptions(settle_seconds=45), reset=False)
    result.assert_consistent()
    assert result.statuses == {"ord-0001": "completed"}
    crm = [e for e in topo.journals()["crm"] if e.get("order_id") == "ord-0001"]
    assert crm and max(float(e["duration_ms"]) for e in crm) >= 4000, crm
    assert result.timings["settle"] >= 3.0, "the slow call ended before settling began"


def test_a_stuck_order_is_reported_within_seconds_of_going_still(start_topology: Any) -> None:
    """resume-pending: a crash while the order runs leaves it `running` for good. The
    settle phase ends one quiet period after the heal, not at its 45 s."""
    topo = start_topology(naive_spec("resume-pending"))
    crash = {"fault": {"kind": "kill", "target": "orchestrator"}, "for": 0,
             "when": {"service": "payment", "path": "/payments", "order_id": "ord-0001",
                      "phase": "after_commit"}}  # fmt: skip
    opts = RunOptions(settle_seconds=45)
    result = run(topo, orders(1), [crash], opts, reset=False)
    assert [(v.rule, v.order_id) for v in result.verdict.violations] == [("liveness", "ord-0001")]
    quiet = quiet_period(call_timeout(topo.orchestrator))  # what run() resolves None to
    assert quiet <= result.timings["settle"] < quiet + 5, result.timings
    assert result.timings["workload"] < 10, result.timings


def test_a_rule_on_a_later_step_of_a_stuck_order_does_not_hold_the_workload(
    start_topology: Any,
) -> None:
    """An HTTP rule waits for the stuck order's shipment, which never comes: it holds
    nothing back by itself, so the workload phase ends one quiet period after the order
    went still (it ran out its 120 s when any rule in place counted as a fault active)."""
    topo = start_topology(naive_spec("resume-pending"))
    crash = {"fault": {"kind": "kill", "target": "orchestrator"}, "for": 0,
             "when": {"service": "payment", "path": "/payments", "order_id": "ord-0001",
                      "phase": "after_commit"}}  # fmt: skip
    later = {"fault": {"kind": "reset", "target": "shipping",
                       "params": {"path": "/shipments", "method": "POST", "order_id": "ord-0001",
                                  "phase": "after_commit", "times": 1}}, "at": 0}  # fmt: skip
    result = run(topo, orders(1), [crash, later], RunOptions(settle_seconds=45), reset=False)
    assert [(v.rule, v.order_id) for v in result.verdict.violations] == [("liveness", "ord-0001")]
    quiet = quiet_period(call_timeout(topo.orchestrator))
    assert result.timings["workload"] < quiet + 10, result.timings
    # Taking the rule away held nothing back: the order's quiet period, already waited
    # out, is not waited out again after the heal.
    assert result.timings["settle"] < quiet / 2, result.timings


def test_an_input_waiting_on_a_stuck_order_does_not_hold_the_run(start_topology: Any) -> None:
    """A client input that waits for its order to finish (``POST /orders`` again after
    it ended) waits for a stuck order in vain: it holds nothing back, so the workload
    phase ends one quiet period after the order went still, and the run does not sit
    out the input's own waits either (a held-out search spent 120 s of its 130 s
    example so, with the input counted as a fault active)."""
    import time

    topo = start_topology(naive_spec("resume-pending"))
    crash = {"fault": {"kind": "kill", "target": "orchestrator"}, "for": 0,
             "when": {"service": "payment", "path": "/payments", "order_id": "ord-0001",
                      "phase": "after_commit"}}  # fmt: skip
    again = {"fault": {"kind": "resubmit", "target": "orchestrator",
                       "params": {"order_id": "ord-0001", "after_done": True}}, "at": 0}  # fmt: skip
    t = time.monotonic()
    result = run(topo, orders(1), [crash, again], RunOptions(settle_seconds=45), reset=False)
    took = time.monotonic() - t
    assert [(v.rule, v.order_id) for v in result.verdict.violations] == [("liveness", "ord-0001")]
    quiet = quiet_period(call_timeout(topo.orchestrator))
    assert result.timings["workload"] < quiet + 10, result.timings
    assert result.timings["settle"] < quiet / 2, result.timings
    assert took < quiet + 20, (took, result.timings)
    notes = [e for e in result.history.events if e.type == "note" and e.op == "client-input-not-sent"]
    assert notes, "the input was sent to an order that never finished"


def test_an_order_held_by_a_partition_is_not_stuck_once_it_heals(start_topology: Any) -> None:
    """Payment is down for longer than the quiet period: the order calls it in vain (no
    request reaches the fake, so nothing of it moves), yet a partition held it back.
    Its quiet period starts again when the partition heals, and it completes: judged
    from its last movement, it was still for the whole period the moment the
    partition healed, and the run called it stuck."""
    topo = start_topology(naive_spec())
    # The orchestrator's own call timeout: declared shorter than it is (1 s for its 5 s),
    # a call it was still waiting out after the heal made it look still (CI, idle).
    opts = RunOptions(settle_seconds=45)
    quiet = quiet_period(call_timeout(topo.orchestrator))
    down = {"fault": {"kind": "down", "target": "payment"}, "at": 0, "for": quiet + 1.5}
    # a trigger on a later step keeps the workload phase going past the heal
    later = {"fault": {"kind": "latency", "target": "notify", "params": {"latency_ms": 10}},
             "for": 0.1, "when": {"service": "shipping", "path": "/shipments",
                                  "order_id": "ord-0001", "phase": "after_commit"}}  # fmt: skip
    result = run(topo, orders(1), [down, later], opts, reset=False)
    result.assert_consistent()
    assert result.statuses == {"ord-0001": "completed"}


def test_a_trigger_on_work_after_an_order_reported_its_end_still_fires(
    start_topology: Any,
) -> None:
    """fail-first saves an undeliverable order `failed`, then releases, refunds and tells
    the customer. A crash triggered by its refund must land on every run: the workload
    phase used to end (and heal the trigger) the moment every status read an end, and
    the refund that came a few ms later passed untouched on 2 replays in 5."""
    topo = start_topology(naive_spec("fail-first"))
    crash = {"fault": {"kind": "kill", "target": "orchestrator"}, "for": 0,
             "when": {"service": "payment", "path": "/payments/*/refunds", "order_id": "ord-0001",
                      "phase": "after_commit"}}  # fmt: skip
    for attempt in range(6):
        result = run(topo, orders(1, intents=["undeliverable"]), [crash],
                     RunOptions(settle_seconds=20))  # fmt: skip
        fired = [e for e in result.history.events if e.type == "fault_applied"]
        assert fired, f"attempt {attempt}: the trigger never fired\n{result.failure_text()}"
        assert [v.rule for v in result.verdict.violations] == ["failed-ledger"], (
            attempt, result.failure_text())  # fmt: skip
