"""Message faults on the bundled choreography, each shown to act for real: the broker's
own accounting (its delivery counts, its PubAcks) or the history's message records say
it happened, the correct participants still end every order consistent, and a planted
defect in the window the fault opens gives the violation the search should find."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from choreo_helpers import choreo_spec

from fracas.fakes.events import STREAM
from fracas.harness.run.runner import RunOptions, RunResult, run
from fracas.harness.run.topology import Topology
from fracas.harness.run.workload import orders


def _entry(kind: str, target: str, for_: float, **params: Any) -> dict[str, Any]:
    return {"fault": {"kind": kind, "target": target, "params": params}, "at": 0, "for": for_}


def _deliveries(result: RunResult, consumer: str, order_id: str, event: str) -> list[int]:
    """The broker's delivery counts of one event to one consumer, off its ack subjects."""
    return [m["delivery"] for m in result.history.messages
            if m["kind"] in ("delivered", "redelivered") and m["consumer"] == consumer
            and m["order_id"] == order_id and m["event"] == event]  # fmt: skip


def _violations(result: RunResult) -> set[tuple[str, str | None]]:
    return {(v.rule, v.order_id) for v in result.verdict.violations}


@pytest.mark.parametrize("bug", [None, "no-dedup"])
def test_a_lost_ack_makes_the_broker_deliver_the_event_again(
    start_topology: Callable[..., Topology], bug: str | None,
) -> None:
    topo = start_topology(choreo_spec(**({"payment": bug} if bug else {})))
    plans = orders(2, seed=0)
    oid = plans[1].order_id
    schedule = [_entry("message_duplicate", "broker", 15, event="customer.checked",
                       order_id=oid, consumer="payment")]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    assert max(_deliveries(result, "payment", oid, "customer.checked")) >= 2
    assert topo.broker is not None  # the broker's own count: a consumer sequence per delivery
    state = topo.broker.link.consumer_state(STREAM, "payment")
    assert state.delivered == len(plans) + 1 and state.num_ack_pending == 0
    if bug is None:
        result.assert_consistent()
        return
    assert ("double-charge", oid) in _violations(result), result.failure_text()
    _assert_witness_shows_the_redelivery(result, oid)


def test_a_message_fault_lies_in_wait_for_its_event_past_its_for(
    start_topology: Callable[..., Topology],
) -> None:
    """The customer participant paused for 5 s, so customer.checked comes after the lost
    ack's ``for`` of 2 s is up: the fault still lies in wait, acts when the delivery
    comes, and its ``for`` counts from then, so the broker delivers the event again.
    Healed at ``at`` + ``for`` instead, it never met its event (replays of the
    choreography's finds that a pause had delayed did not reproduce)."""
    topo = start_topology(choreo_spec())
    plans = orders(1, seed=0)
    oid = plans[0].order_id
    schedule = [
        {"fault": {"kind": "pause", "target": "participant:customer", "params": {}},
         "at": 0, "for": 5},
        _entry("message_duplicate", "broker", 2, event="customer.checked", order_id=oid,
               consumer="payment"),
    ]  # fmt: skip
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    result.assert_consistent()
    assert max(_deliveries(result, "payment", oid, "customer.checked")) >= 2
    acted = [e for e in result.history.events if e.type == "note" and e.op == "fault-acted"]
    assert [e.data.get("index") for e in acted] == [1]


def _assert_witness_shows_the_redelivery(result: RunResult, oid: str) -> None:
    """The double charge's witness tells the order's events between its HTTP calls: the
    redelivery to payment comes after the first capture, and the payment.captured that
    the second capture published is dropped as a duplicate after it; no other order's
    events are in it. (Each broker line is timed when the harness's tap read it, a few
    ms after the participant may have: a capture it caused can be shown just before it.)"""
    [v] = [v for v in result.verdict.violations if v.rule == "double-charge"]
    assert v.messages and {m["order_id"] for m in v.messages} == {oid}
    text = result.failure_text()
    again = text.index("broker redelivered customer.checked to payment (delivery 2")
    captures = [i for i in range(len(text))
                if text.startswith("payment POST /payments", i)]  # fmt: skip
    assert len(captures) >= 2 and captures[0] < again, text
    assert again < text.index("broker published payment.captured duplicate of seq"), text
    assert "broker published order.placed stored seq" in text, text
    assert "broker acked customer.checked by payment (delivery 2" in text, text


def _stored(result: RunResult, order_id: str, event: str) -> list[bool]:
    """The broker's PubAck to each publish of one event: duplicate or not."""
    return [bool(m.get("duplicate")) for m in result.history.messages
            if m["kind"] == "published" and m["order_id"] == order_id and m["event"] == event
            and "duplicate" in m]  # fmt: skip


def test_the_same_message_fault_acts_again_in_the_next_run(
    start_topology: Callable[..., Topology],
) -> None:
    """A search runs one case again on the same topology (to confirm a failure, to
    shrink, to replay). The proxy kept what a fault's toxics saw by the fault's id, so
    the same fault, applied again, found its one aimed publish already used up and
    never acted: every find of retry-no-msgid "did not reproduce when Hypothesis
    replayed it". Each application now sees afresh."""
    topo = start_topology(choreo_spec(customer="retry-no-msgid"))
    plans = orders(2, seed=0)
    oid = plans[1].order_id
    schedule = [_entry("message_lost_puback", "broker", 5, event="customer.checked",
                       order_id=oid)]
    for _ in range(2):
        result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
        assert _violations(result) == {("event-stored-once", oid)}, result.failure_text()


@pytest.mark.parametrize("bug", [None, "retry-no-msgid"])
def test_a_lost_puback_is_retried_and_the_dedup_window_drops_the_copy(
    start_topology: Callable[..., Topology], bug: str | None,
) -> None:
    """The broker stored customer.checked and its PubAck was dropped: the publisher
    retries. With its message id the broker answers the copy ``duplicate``; with
    ``--bug retry-no-msgid`` it stores the event twice. The fakes' idempotency keys
    absorb the second capture attempt, so the ledgers stay consistent either way, and
    only ``event-stored-once`` names the order, with both stream sequences."""
    topo = start_topology(choreo_spec(**({"customer": bug} if bug else {})))
    plans = orders(2, seed=0)
    oid = plans[1].order_id
    schedule = [_entry("message_lost_puback", "broker", 15, event="customer.checked",
                       order_id=oid)]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    acks = _stored(result, oid, "customer.checked")
    if bug is None:
        result.assert_consistent()
        assert acks == [False, True], acks  # stored once, the retry dropped by its id
    else:
        assert acks == [False, False], acks  # stored twice
    assert topo.broker is not None
    seqs = [m["stream_seq"] for m in result.history.messages if m["kind"] == "published"
            and m["event"] == "customer.checked" and m.get("duplicate") is False]
    stored = [topo.broker.link.body_at(STREAM, s)["order_id"] for s in seqs]
    assert stored.count(oid) == (1 if bug is None else 2)
    if bug is None:
        return
    assert _violations(result) == {("event-stored-once", oid)}, result.failure_text()
    [v] = result.verdict.violations
    mine = sorted(s for s, o in zip(seqs, stored, strict=True) if o == oid)
    assert v.actual == {"stored": 2, "event": "customer.checked", "stream_seqs": mine}
    assert all(f"seq {s}" in v.message for s in mine) and "(no msg id)" in v.message
    text = result.failure_text()  # the witness shows both stores, the copy without its id
    assert f"broker published customer.checked stored seq {mine[0]}\n" in text, text
    assert f"broker published customer.checked stored seq {mine[1]} NO MSG-ID" in text, text


def test_a_late_delivery_arrives_after_the_rest_of_the_connection(
    start_topology: Callable[..., Topology],
) -> None:
    """payment.captured held 1.5 s on its way to shipping: the broker sent it at once
    (its delivery record), and the ack comes only after the hold."""
    topo = start_topology(choreo_spec())
    plans = orders(2, seed=0)
    oid = plans[1].order_id
    schedule = [_entry("message_late", "broker", 15, event="payment.captured",
                       order_id=oid, consumer="shipping", delay_ms=1500)]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    result.assert_consistent()
    moved = [m for m in result.history.messages if m.get("consumer") == "shipping"
             and m["order_id"] == oid and m["event"] == "payment.captured"]
    sent = next(m["t"] for m in moved if m["kind"] == "delivered")
    acked = next(m["t"] for m in moved if m["kind"] == "acked")
    assert acked - sent >= 1.4, (sent, acked)
    other = next(m for m in result.history.messages if m.get("consumer") == "shipping"
                 and m["order_id"] == plans[0].order_id and m["kind"] == "acked")
    assert other["t"] - sent < 1.4  # the other order's delivery was not held


@pytest.mark.parametrize("bug", [None, "no-dedup"])
def test_a_participant_killed_as_it_acks_gets_the_event_again(
    start_topology: Callable[..., Topology], bug: str | None,
) -> None:
    """payment SIGKILLed the moment it acked customer.checked, its ack lost on the wire:
    the broker delivers the event again to the restarted participant. The correct one
    finds it in its dedup table; ``--bug no-dedup`` captures a second time."""
    topo = start_topology(choreo_spec(**({"payment": bug} if bug else {})))
    plans = orders(2, seed=0)
    oid = plans[1].order_id
    schedule = [_entry("message_crash", "participant:payment", 10, event="customer.checked",
                       order_id=oid)]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    assert max(_deliveries(result, "payment", oid, "customer.checked")) >= 2
    assert topo.orchestrator.participants["payment"].starts >= 2  # type: ignore[attr-defined]
    if bug is None:
        result.assert_consistent()
        return
    assert ("double-charge", oid) in _violations(result), result.failure_text()

@pytest.mark.slow
def test_a_crash_after_the_ack_loses_what_was_published_outside_the_outbox(
    start_topology: Callable[..., Topology],
) -> None:
    """An out-of-stock order: payment refunds on inventory.rejected. SIGKILLed right
    after its ack lands, with what it publishes after lost: the correct participant had
    published payment.refunded before acking (its outbox), so the order fails cleanly;
    ``--bug no-outbox`` publishes it after the ack, and the order never ends."""
    results = {}
    for bug in (None, "no-outbox"):
        topo = start_topology(choreo_spec(**({"payment": bug} if bug else {})))
        plans = orders(1, seed=0, intents=("out_of_stock",))
        oid = plans[0].order_id
        schedule = [_entry("message_crash", "participant:payment", 10,
                           event="inventory.rejected", order_id=oid, moment="after_ack")]
        results[bug] = (oid, run(topo, plans, schedule, RunOptions(settle_seconds=20), seed=0))
    oid, good = results[None]
    good.assert_consistent()
    assert good.statuses[oid] == "failed"
    oid, bad = results["no-outbox"]
    assert ("liveness", oid) in _violations(bad), bad.failure_text()
    assert not any(m["kind"] == "published" and m["event"] == "payment.refunded"
                   for m in bad.history.messages)


@pytest.mark.parametrize("bug", [None, "no-outbox"])
def test_a_participant_killed_at_its_publish_loses_the_event_only_without_an_outbox(
    start_topology: Callable[..., Topology], bug: str | None,
) -> None:
    """An out-of-stock order: payment refunds on inventory.rejected and publishes
    payment.refunded, which is dropped on the wire as payment is SIGKILLed. The correct
    participant had not acked the delivery yet (it acks after its publish is stored): the
    broker delivers inventory.rejected again, the restarted payment finds its refund done
    and publishes the event, and the order fails cleanly. ``--bug no-outbox`` acked before
    it published, so nothing brings the event back, and the order never ends."""
    topo = start_topology(choreo_spec(**({"payment": bug} if bug else {})))
    plans = orders(1, seed=0, intents=("out_of_stock",))
    oid = plans[0].order_id
    schedule = [_entry("message_publish_crash", "participant:payment", 10,
                       event="payment.refunded", order_id=oid)]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=20), seed=0)
    assert topo.orchestrator.participants["payment"].starts >= 2  # type: ignore[attr-defined]
    refunded = [m for m in result.history.messages if m["kind"] == "published"
                and m["event"] == "payment.refunded"]  # fmt: skip
    if bug is None:
        result.assert_consistent()
        assert result.statuses[oid] == "failed" and refunded
        assert max(_deliveries(result, "payment", oid, "inventory.rejected")) >= 2
        return
    assert ("liveness", oid) in _violations(result), result.failure_text()
    assert not refunded


def test_two_events_of_one_order_reach_the_order_view_out_of_order(
    start_topology: Callable[..., Topology],
) -> None:
    """payment.captured held on its way to the order view until order.completed passed:
    the view acks the end first (the broker's ack records say so) and keeps the order
    completed when the earlier event comes."""
    topo = start_topology(choreo_spec())
    plans = orders(2, seed=0)
    oid = plans[1].order_id
    schedule = [_entry("message_reorder", "broker", 15, event="payment.captured",
                       then_event="order.completed", order_id=oid, consumer="orders")]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    result.assert_consistent()
    assert result.statuses[oid] == "completed"
    acked = [m["event"] for m in result.history.messages if m["kind"] == "acked"
             and m["consumer"] == "orders" and m["order_id"] == oid]
    assert acked.index("order.completed") < acked.index("payment.captured"), acked
    sent = [m["event"] for m in result.history.messages if m["kind"] == "delivered"
            and m["consumer"] == "orders" and m["order_id"] == oid]
    assert sent.index("payment.captured") < sent.index("order.completed")  # the broker's order


@pytest.mark.parametrize("bug", [None, "no-dedup"])
def test_a_participant_paused_past_the_ack_wait_gets_the_event_again(
    start_topology: Callable[..., Topology], bug: str | None,
) -> None:
    """payment SIGSTOPped as customer.checked reaches it, for 5 s (the ack wait is 2 s):
    on resume its next pull gets the event again from the broker (delivery 2) while it
    still holds the first copy. The correct participant captures once (the fake's
    idempotency key); ``--bug no-dedup`` captures twice."""
    topo = start_topology(choreo_spec(**({"payment": bug} if bug else {})))
    plans = orders(2, seed=0)
    oid = plans[1].order_id
    schedule = [_entry("message_pause", "participant:payment", 15, event="customer.checked",
                       order_id=oid, seconds=5)]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    moved = [m for m in result.history.messages if m.get("consumer") == "payment"
             and m["order_id"] == oid and m["event"] == "customer.checked"]
    sent = next(m["t"] for m in moved if m["kind"] == "delivered")
    assert max(m["delivery"] for m in moved) >= 2, moved
    assert min(m["t"] for m in moved if m["kind"] == "acked") - sent > 2.0  # past the ack wait
    if bug is None:
        result.assert_consistent()
        return
    assert ("double-charge", oid) in _violations(result), result.failure_text()


@pytest.mark.parametrize(("intent", "late_to", "bug"), [
    ("out_of_stock", "payment", None), ("out_of_stock", "payment", "cancel-first"),
    ("declined", "inventory", None), ("declined", "inventory", "cancel-first"),
])  # fmt: skip
def test_a_compensation_that_comes_before_its_create_waits_for_it(
    start_topology: Callable[..., Topology], intent: str, late_to: str, bug: str | None,
) -> None:
    """Payment and inventory both act on customer.checked. Held 1.5 s on its way to one
    of them, the other's failure (out of stock, declined) reaches it first. The correct
    participant gives the compensation back to the broker (its nak is on record) until
    it has handled customer.checked, then undoes what it made; ``--bug cancel-first``
    undoes nothing at once, then makes the capture or reservation that no one undoes."""
    topo = start_topology(choreo_spec(**({late_to: bug} if bug else {})))
    plans = orders(1, seed=0, intents=(intent,))
    oid = plans[0].order_id
    compensation = {"payment": "inventory.rejected", "inventory": "payment.declined"}[late_to]
    schedule = [_entry("message_late", "broker", 15, event="customer.checked", order_id=oid,
                       consumer=late_to, delay_ms=1500)]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=20), seed=0)
    assert result.statuses[oid] == "failed"
    mine = [m for m in result.history.messages if m.get("consumer") == late_to
            and m["order_id"] == oid]  # fmt: skip
    acked = [m["event"] for m in mine if m["kind"] == "acked"]
    assert compensation in acked and "customer.checked" in acked
    if bug is None:
        result.assert_consistent()
        nacked = [m["event"] for m in mine if m["kind"] == "nacked"]
        assert compensation in nacked, mine
        assert acked.index("customer.checked") < acked.index(compensation), acked
        return
    assert ("failed-ledger", oid) in _violations(result), result.failure_text()
    assert acked.index(compensation) < acked.index("customer.checked"), acked
