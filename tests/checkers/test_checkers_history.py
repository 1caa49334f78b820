"""The history API: pairing, faults, misuse, JSON round trip."""

from __future__ import annotations

import json

import pytest
from synth_ledger import SynthWorld

from fracas.harness.checkers import Snapshot, check
from fracas.harness.model.history import History, HistoryError


def test_ops_pair_invocations_with_outcomes() -> None:
    clock = iter(float(i) for i in range(100, 200))
    h = History(t0=100.0, clock=lambda: next(clock))
    a = h.invoke("submit", "ord-1", order={"order_id": "ord-1"})
    b = h.invoke("status", "ord-1", process="w1")
    b.unknown(error="timeout")
    a.ok(status="pending")
    c = h.invoke("review", "ord-1", decision="approve")
    ops = h.ops()
    assert [(o.op, o.outcome) for o in ops] == [
        ("submit", "ok"),
        ("status", "unknown"),
        ("review", "pending"),
    ]
    assert ops[1].invoke.process == "w1" and ops[1].completion is not None
    assert ops[1].completion.data == {"error": "timeout"}
    with pytest.raises(HistoryError):
        a.fail()
    assert c.completion is None


def test_faults_windows_and_heal() -> None:
    clock = iter(float(i) for i in range(0, 100))
    h = History(t0=0.0, clock=lambda: next(clock))
    f = h.fault_applied({"type": "latency", "attributes": {"latency": 1000}}, "payment")
    g = h.fault_applied(
        {"id": "r1", "match": {}, "phase": "after_commit", "action": {"kind": "drop"}}, "inventory"
    )
    f.healed()
    with pytest.raises(HistoryError):
        h.fault_healed(f.fault_id)
    [w1, w2] = h.faults()
    assert (w1.applied_t, w1.healed_t, w1.target) == (0.0, 2.0, "payment")
    assert w2.healed_t is None and w2.label == "fault rule r1 (drop after_commit)"
    assert w1.active_at(2.0) and not w1.active_at(4.0) and w2.active_at(50.0)
    assert h.last_heal_t() == 2.0
    h.heal_all()
    assert g.event.op_id == h.faults()[1].fault_id and h.faults()[1].healed_t is not None


def test_terminal_times_come_from_status_reads() -> None:
    clock = iter(float(i) for i in range(0, 100))
    h = History(t0=0.0, clock=lambda: next(clock))
    h.invoke("submit", "o").ok(status="pending")
    h.invoke("status", "o").ok(status="running")
    h.invoke("status", "o").ok(status="completed")
    h.invoke("status", "o").ok(status="completed")
    assert h.submit_times() == {"o": 0.0}
    assert h.terminal_times() == {"o": 5.0}


def test_json_round_trip_keeps_the_verdict() -> None:
    w = SynthWorld()
    w.complete("ord-a")
    w.order("ord-b")
    w.capture("ord-b")
    w.capture("ord-b", key="k2")
    w.report("ord-b", "running")
    f = w.history.fault_applied({"type": "timeout"}, "payment")
    f.healed()
    w.history.fault_applied({"kind": "kill"}, "notify")
    snap = w.snapshot(settle_seconds=5.0)
    raw = json.loads(json.dumps(snap.to_json()))
    again = Snapshot.from_json(raw)
    assert again.history is not None and snap.history is not None
    assert again.history.to_json() == snap.history.to_json()
    assert json.loads(json.dumps(again.to_json())) == raw
    r1, r2 = check(snap), check(again)
    assert [v.to_json() for v in r1.violations] == [v.to_json() for v in r2.violations]
    assert r1.violations
    # a restored history keeps numbering and still knows the unhealed fault
    h2 = again.history
    h2.fault_healed(h2.faults()[-1].fault_id)
    assert h2.invoke("status", "ord-a").op_id > max(e.op_id for e in snap.history.events)


def test_attach_journals_appends() -> None:
    h = History(t0=0.0)
    h.attach_journals({"payment": [{"seq": 1}]})
    h.attach_journals({"payment": [{"seq": 2}], "crm": []})
    assert [e["seq"] for e in h.journals["payment"]] == [1, 2] and h.journals["crm"] == []


def test_timeline_joins_journals_by_order_correlation_and_key() -> None:
    w = SynthWorld()
    w.order("ord-a")
    pay = w.capture("ord-a")
    # a retry that carried neither order id nor correlation id, only the key
    w.log(
        "payment",
        "POST",
        "/payments",
        201,
        None,
        key=pay["idempotency_key"],
        effect_id=pay["payment_id"],
        replayed=True,
    )
    w.complete("ord-b")
    w.history.journals = w.journals
    tl = w.history.timeline("ord-a")
    sources = [x["source"] for x in tl]
    assert sources == [
        "history",
        "history",
        "shipping",
        "payment",
        "payment",
    ]  # submit, quote, capture, keyed retry
    assert all(x["item"].get("order_id") in ("ord-a", None) for x in tl)
    assert [x["t"] for x in tl] == sorted(x["t"] for x in tl)


def test_fault_labels_for_every_shape() -> None:
    from fracas.harness.model.history import describe_fault

    assert (
        describe_fault(
            {
                "kind": "drop",
                "target": "inventory",
                "params": {
                    "path": "/reservations",
                    "method": "POST",
                    "phase": "after_commit",
                    "times": 1,
                },
            }
        )
        == "a drop fault on POST /reservations after commit"
    )
    assert (
        describe_fault(
            {
                "kind": "status",
                "target": "payment",
                "params": {"path": "/payments", "phase": "before_commit", "status": 503},
            }
        )
        == "a status fault on /payments before commit (status=503)"
    )
    assert (
        describe_fault({"kind": "latency", "target": "payment", "params": {"latency": 800}})
        == "a latency toxic (latency=800)"
    )
    assert describe_fault({"kind": "kill", "target": "notify", "params": {}}) == "a kill"
    # a client input and a message fault are both aimed at an order on the orchestrator
    # (a hybrid's crash at its end-event publish); only the input is one
    assert describe_fault({"kind": "resubmit", "target": "orchestrator",
                           "params": {"order_id": "ord-0001"}}) == (
        "the client input resubmit on ord-0001")  # fmt: skip
    assert describe_fault({"kind": "message_publish_crash", "target": "orchestrator",
                           "params": {"order_id": "ord-0001", "event": "order.failed"}}) == (
        "a message_publish_crash toxic (event=order.failed, order_id=ord-0001)")  # fmt: skip
    assert (
        describe_fault({"type": "timeout", "attributes": {"timeout": 0}})
        == "a timeout toxic (timeout=0)"
    )
    assert (
        describe_fault({"id": "r", "phase": "after_commit", "action": {"kind": "drop"}})
        == "fault rule r (drop after_commit)"
    )
