"""The bundled hybrid end to end on real processes: the bundled orchestrator runs the
order's core and publishes its end through an outbox, a participant on the broker sends
the notification, and the same checkers judge the ledgers (docs/choreography.md#hybrid).

The crash tests aim by condition, not by time: the broker's proxy is cut so that an
order's end is saved but cannot be published, the orchestrator is SIGKILLed in exactly
that window, and only then is the broker given back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from choreo_helpers import hybrid_spec

from fracas.fakes.events import END_STATUS, STREAM
from fracas.harness.checkers import check
from fracas.harness.kit.waiting import wait_until
from fracas.harness.model.snapshot import Snapshot
from fracas.harness.run.runner import RunOptions, run
from fracas.harness.run.topology import Topology
from fracas.harness.run.workload import OrderPlan, mixed, orders

END_BY_INTENT = {"ok": "completed", "blocked": "failed", "declined": "failed",
                 "out_of_stock": "failed", "undeliverable": "failed", "unknown_customer": "failed",
                 "review_approve": "completed", "review_reject": "failed"}  # fmt: skip


def test_every_kind_of_order_ends_as_its_intent_and_the_checkers_agree(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(hybrid_spec())
    assert topo.orchestrator.name == "hybrid" and topo.broker is not None
    plans = mixed(15, seed=0)
    assert {p.intent for p in plans} == set(END_BY_INTENT)  # every path of the saga
    result = run(topo, plans, [], RunOptions(settle_seconds=30), seed=0)
    result.assert_consistent()
    assert result.statuses == {p.order_id: END_BY_INTENT[p.intent] for p in plans}
    # The orchestrator published each order's end, and the notify participant got it:
    # the history holds both beside the HTTP calls, joined by order.
    ends = {(m["order_id"], m["event"]) for m in result.history.messages
            if m["kind"] == "published" and m["event"] in END_STATUS}  # fmt: skip
    assert ends == {(p.order_id, f"order.{result.statuses[p.order_id]}") for p in plans}
    got = {m["order_id"] for m in result.history.messages
           if m["kind"] == "delivered" and m["consumer"] == "notify"}  # fmt: skip
    assert got == {p.order_id for p in plans}
    story = result.history.timeline(plans[0].order_id)
    assert {"broker", "payment", "notify", "history"} <= {item["source"] for item in story}


def _verdict(topo: Topology, plans: list[OrderPlan]) -> Any:
    topo.ensure_running()
    return check(Snapshot(
        ledgers=topo.ledgers(), orders={p.order_id: p.order for p in plans},
        reported={p.order_id: topo.orchestrator.status(p.order_id) for p in plans},
        journals=topo.journals(), intents={p.order_id: p.intent for p in plans}))  # fmt: skip


def _messages(topo: Topology, order_id: str) -> list[str]:
    rows = topo.ledgers()["notify"]["tables"]["messages"]
    return [r["template"] for r in rows if r["order_id"] == order_id]


def _outbox(topo: Topology) -> int:
    answer = httpx.get(f"{topo.orchestrator.url}/_admin/outbox", timeout=5, trust_env=False)
    pending: int = answer.json()["pending"]
    return pending


def _crash_between_end_and_publish(topo: Topology) -> OrderPlan:
    """One order saved as completed while the broker is cut off, the orchestrator
    SIGKILLed before it could publish the end, then the broker back and the orchestrator
    restarted. Returns the plan once everything it owes is published and delivered."""
    assert topo.broker is not None
    plan = orders(1, seed=0)[0]
    topo.toxi.disable(topo.broker.proxy_name)  # no client reaches the broker now
    try:
        assert topo.orchestrator.submit(plan.order).accepted
        wait_until(lambda: (topo.orchestrator.status(plan.order_id) or {}).get("status")
                   == "completed", 30, interval=0.05, what="the order saved as completed")  # fmt: skip
        assert _outbox(topo) == 1  # its end event, unpublished: the window is open
        proc = topo.orchestrator.process
        assert proc is not None
        proc.kill()
    finally:
        topo.toxi.enable(topo.broker.proxy_name)
    topo.ensure_running()  # the orchestrator restarted on its state
    assert topo.orchestrator.wait_published(30)  # type: ignore[attr-defined]
    assert topo.broker.wait_settled(30)
    return plan


def test_an_end_saved_before_a_crash_is_still_published_from_the_outbox(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(hybrid_spec())
    plan = _crash_between_end_and_publish(topo)
    wait_until(lambda: _messages(topo, plan.order_id) == ["order_confirmed"], 30,
               what="the confirmation sent")  # fmt: skip
    published = [m for m in topo.messages() if m["kind"] == "published"
                 and m["event"] == "order.completed"]  # fmt: skip
    assert [m["order_id"] for m in published] == [plan.order_id]  # by the restarted one
    assert _verdict(topo, [plan]).violations == []


def test_the_no_outbox_defect_loses_the_confirmation_and_a_violation_names_the_order(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(hybrid_spec(orchestrator_bug="events-no-outbox"))
    plan = _crash_between_end_and_publish(topo)
    assert not [m for m in topo.messages() if m["kind"] == "published"
                and m["event"] == "order.completed"]  # fmt: skip
    assert _messages(topo, plan.order_id) == []
    assert (topo.orchestrator.status(plan.order_id) or {}).get("status") == "completed"
    found = {(v.rule, v.order_id) for v in _verdict(topo, [plan]).violations}
    assert ("completed-ledger", plan.order_id) in found


def _crash_notify_before_its_ack(topo: Topology) -> tuple[str, int]:
    """Notify's message committed and its answer held while the notify participant is
    SIGKILLed: the event was delivered, never acked. Returns the order id and how often
    the broker delivered to the notify consumer once the message is in the ledger."""
    plan = orders(1, seed=0)[0]
    admin = topo.admin_url("notify")
    rule = {"id": "hold-message", "match": {"method": "POST", "path": "/messages",
                                            "order_id": plan.order_id},
            "phase": "after_commit", "action": {"kind": "hold"}, "times": 1}  # fmt: skip
    httpx.post(f"{admin}/_fracas/faults", json=rule, trust_env=False).raise_for_status()
    assert topo.orchestrator.submit(plan.order).accepted

    def held() -> list[Any]:
        got: list[Any] = httpx.get(f"{admin}/_fracas/held?wait=1", timeout=5,
                                   trust_env=False).json()["held"]  # fmt: skip
        return got

    wait_until(held, 30, interval=0.1, what="the message held")
    notify = topo.orchestrator.participants["notify"]  # type: ignore[attr-defined]
    notify.kill()
    httpx.post(f"{admin}/_fracas/held/release", trust_env=False)
    topo.ensure_running()
    link = topo.broker.link  # type: ignore[union-attr]
    wait_until(lambda: link.consumer_state(STREAM, "notify").delivered >= 2, 30,
               what="the event delivered again")  # fmt: skip
    assert topo.broker is not None and topo.broker.wait_settled(30)
    return plan.order_id, link.consumer_state(STREAM, "notify").delivered


def test_a_participant_killed_before_its_ack_gets_the_event_again(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(hybrid_spec())
    order_id, deliveries = _crash_notify_before_its_ack(topo)
    assert deliveries >= 2  # the broker's own count
    again = {(m["consumer"], m["event"], m["order_id"]) for m in topo.messages()
             if m["kind"] == "redelivered"}  # fmt: skip
    assert ("notify", "order.completed", order_id) in again  # and the history's
    assert _messages(topo, order_id) == ["order_confirmed"]  # the key made it a replay
    plan = next(p for p in orders(1, seed=0) if p.order_id == order_id)
    assert _verdict(topo, [plan]).violations == []


def test_the_no_dedup_defect_confirms_twice_on_that_redelivery(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(hybrid_spec(notify="no-dedup"))
    order_id, deliveries = _crash_notify_before_its_ack(topo)
    assert _messages(topo, order_id) == ["order_confirmed"] * deliveries
    plan = next(p for p in orders(1, seed=0) if p.order_id == order_id)
    found = {(v.rule, v.order_id) for v in _verdict(topo, [plan]).violations}
    assert ("completed-ledger", order_id) in found


def test_schedules_aim_at_the_orchestrator_a_participant_and_the_broker(
    start_topology: Callable[..., Topology],
) -> None:
    """The three kinds of target a hybrid has, in one schedule as scenarios write them:
    the orchestrator killed as a capture commits, notify killed as its message commits,
    and the broker cut off from everyone for a second. Every order still completes."""
    topo = start_topology(hybrid_spec())
    plans = orders(4, seed=0)
    schedule = [
        {"fault": {"kind": "kill", "target": "orchestrator"},
         "when": {"service": "payment", "path": "/payments", "order_id": plans[0].order_id,
                  "phase": "after_commit"}, "for": 0.5},
        {"fault": {"kind": "kill", "target": "participant:notify"},
         "when": {"service": "notify", "path": "/messages", "order_id": plans[1].order_id,
                  "phase": "after_commit"}, "for": 0.5},
        {"fault": {"kind": "down", "target": "broker"}, "at": 0, "for": 1.0},
    ]  # fmt: skip
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    result.assert_consistent()
    assert sorted(result.nemesis.applied) == [0, 1, 2]
    assert set(result.statuses.values()) == {"completed"}
    again = [m for m in result.history.messages if m["kind"] == "redelivered"]
    assert any(m["consumer"] == "notify" and m["order_id"] == plans[1].order_id for m in again)


def test_the_orchestrator_killed_at_its_end_event_publish_loses_it_only_without_an_outbox(
    start_topology: Callable[..., Topology],
) -> None:
    """``message_publish_crash`` on the orchestrator: its publish of order.completed is
    dropped on the wire and it is SIGKILLed at that instant. The outbox holds the event,
    and the restarted orchestrator publishes it; ``events-no-outbox`` held it in memory
    only, and the order stays completed with no confirmation."""
    results = {}
    for bug in (None, "events-no-outbox"):
        topo = start_topology(hybrid_spec(**({"orchestrator_bug": bug} if bug else {})))
        plans = orders(2, seed=0)
        oid = plans[1].order_id
        schedule = [{"fault": {"kind": "message_publish_crash", "target": "orchestrator",
                               "params": {"event": "order.completed", "order_id": oid}},
                     "at": 0, "for": 15}]  # fmt: skip
        result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
        assert topo.orchestrator.process is not None and topo.orchestrator.process.starts >= 2
        results[bug] = (oid, result)
    oid, good = results[None]
    good.assert_consistent()
    assert good.statuses[oid] == "completed"
    published = [m for m in good.history.messages if m["kind"] == "published"
                 and m["event"] == "order.completed" and m["order_id"] == oid]  # fmt: skip
    assert published, "the restarted orchestrator published the end from its outbox"
    oid, bad = results["events-no-outbox"]
    assert bad.statuses[oid] == "completed"
    assert not [m for m in bad.history.messages if m["kind"] == "published"
                and m["event"] == "order.completed" and m["order_id"] == oid]  # fmt: skip
    found = {(v.rule, v.order_id) for v in bad.verdict.violations}
    assert ("completed-ledger", oid) in found, bad.failure_text()
