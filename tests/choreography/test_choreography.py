"""The bundled choreography as the system under test, end to end on real processes: the
harness places orders on the broker, the participants carry them through the fakes, the
order view reports their end, and the same checkers judge the ledgers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from choreo_helpers import choreo_spec, remote_ports

from fracas.fakes.events import BY_NAME, END_STATUS, PATHS, STREAM
from fracas.harness.kit.net import is_listening
from fracas.harness.kit.waiting import wait_until
from fracas.harness.model.history import History
from fracas.harness.run.runner import RunOptions, run
from fracas.harness.run.topology import Topology
from fracas.harness.run.workload import mixed, orders

END_BY_INTENT = {"ok": "completed", "blocked": "failed", "declined": "failed",
                 "out_of_stock": "failed", "undeliverable": "failed", "unknown_customer": "failed",
                 "review_approve": "completed", "review_reject": "failed"}  # fmt: skip


def test_every_kind_of_order_ends_as_its_intent_and_the_checkers_agree(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(choreo_spec())
    plans = mixed(15, seed=0)
    assert {p.intent for p in plans} == set(END_BY_INTENT)  # every path of the saga
    result = run(topo, plans, [], RunOptions(settle_seconds=30), seed=0)
    result.assert_consistent()
    assert result.statuses == {p.order_id: END_BY_INTENT[p.intent] for p in plans}
    # The history holds the events beside the HTTP calls, joined by order.
    ends = {(m["order_id"], m["event"]) for m in result.history.messages
            if m["kind"] == "published" and m["event"] in END_STATUS}  # fmt: skip
    assert ends == {(p.order_id, f"order.{result.statuses[p.order_id]}") for p in plans}
    # Each order's events are its intent's path (events.PATHS: what the search aims
    # message faults at), each published after what it answers (both, for a join).
    for p in plans:
        published = list(dict.fromkeys(
            m["event"] for m in result.history.messages
            if m["kind"] == "published" and m["order_id"] == p.order_id))
        assert sorted(published) == sorted(PATHS[p.intent]), (p.intent, published)
        for i, event in enumerate(published[1:], 1):
            spec, before = BY_NAME[event], set(published[:i])
            met = set(spec.answers) <= before if spec.join else bool(before & set(spec.answers))
            assert met, (p.intent, event, published)
    assert History.from_json(result.history.to_json()).messages == result.history.messages
    story = result.history.timeline(plans[0].order_id)
    assert {"broker", "payment", "history"} <= {item["source"] for item in story}
    # Every delivery the broker made was acked (the last acks may trail the last status).
    wait_until(lambda: _unacked(topo.messages()) == set(), 10, what="every delivery acked")


def _unacked(messages: list[dict[str, Any]]) -> set[tuple[str, int]]:
    given = {(m["consumer"], m["stream_seq"]) for m in messages
             if m["kind"] in ("delivered", "redelivered")}  # fmt: skip
    return given - {(m["consumer"], m["stream_seq"]) for m in messages if m["kind"] == "acked"}


def test_participants_reach_the_broker_only_through_its_fault_proxy(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(choreo_spec())
    assert topo.broker is not None and topo.broker.process is not None
    proxy_port = int(topo.broker.proxied_url.rsplit(":", 1)[1])
    assert topo.fault_context().proxy_name("broker") == topo.broker.proxy_name
    pids = [topo.broker.process.process.pid]
    for name, proc in topo.orchestrator.participants.items():  # type: ignore[attr-defined]
        ports = remote_ports(proc.pid)
        assert proxy_port in ports, name
        assert topo.broker.process.port not in ports, name
        pids.append(proc.pid)
    broker_port = topo.broker.process.port
    topo.stop()  # and nothing is left: no participant, no server, no port
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert not is_listening(broker_port) and not is_listening(proxy_port)


def test_placing_an_order_is_idempotent_and_another_body_is_refused(
    start_topology: Callable[..., Topology],
) -> None:
    """As ``POST /orders`` (contract §2): the same order again is 200, another body under
    its id 409, and the broker stores the first one only."""
    topo = start_topology(choreo_spec())
    order = orders(1, seed=0)[0].order
    adapter = topo.orchestrator
    assert adapter.submit(order).status_code == 202
    assert adapter.submit(dict(order)).status_code == 200
    other = adapter.submit({**order, "card_token": "tok_decline_1"})
    assert (other.status_code, other.body["type"]) == (409, "order-exists")

    def stored() -> list[object]:  # the tap reads each publish's ack on its own
        return [m.get("duplicate") for m in topo.messages()
                if m["kind"] == "published" and m["event"] == "order.placed"]  # fmt: skip

    wait_until(lambda: stored() == [False, True, True], 5, what="three publishes, one stored")


def test_the_order_view_takes_the_first_review_decision_as_the_contract_says(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(choreo_spec())
    adapter = topo.orchestrator
    plain, risky = orders(2, seed=0, intents=["ok", "review_reject"])
    for plan in (plain, risky):
        assert adapter.submit(plan.order).accepted

    def status(oid: str) -> object:
        return (adapter.status(oid) or {}).get("status")

    wait_until(lambda: status(risky.order_id) == "awaiting_review", 30, what="a review asked")
    wait_until(lambda: status(plain.order_id) == "completed", 30, what="the plain order done")
    url = f"{adapter.url}/orders"
    bad = httpx.post(f"{url}/{risky.order_id}/review", json={"decision": "maybe"},
                     trust_env=False)  # fmt: skip
    assert (bad.status_code, bad.json()["type"]) == (422, "invalid-request")
    assert adapter.review(risky.order_id, "reject").status_code == 200
    assert adapter.review(risky.order_id, "reject").status_code == 200  # the same again: no second effect
    assert adapter.review(risky.order_id, "approve").status_code == 409  # too late to change it
    assert adapter.review(plain.order_id, "approve").status_code == 409  # it never asked
    assert adapter.review("ord-9999", "approve").status_code == 404
    wait_until(lambda: status(risky.order_id) == "failed", 30, what="the rejected order failed")
    assert (adapter.status(risky.order_id) or {}).get("reason") == "review-rejected"


def _hold_capture(topo: Topology, order_id: str) -> None:
    admin = topo.admin_url("payment")
    rule = {"id": "hold-capture", "match": {"method": "POST", "path": "/payments",
                                            "order_id": order_id},
            "phase": "after_commit", "action": {"kind": "hold"}, "times": 1}  # fmt: skip
    httpx.post(f"{admin}/_fracas/faults", json=rule, trust_env=False).raise_for_status()


def _held(topo: Topology) -> list[Any]:
    url = f"{topo.admin_url('payment')}/_fracas/held?wait=1"
    held: list[Any] = httpx.get(url, timeout=5, trust_env=False).json()["held"]
    return held


def _crash_payment_after_its_capture(topo: Topology) -> tuple[str, int]:
    """One order; payment's capture is committed and its answer held while the payment
    participant is SIGKILLed, so the event was delivered and never acked. Returns the
    order id and how often the broker delivered to the payment consumer (its one event,
    ``customer.checked``: twice means once again), once the order has ended."""
    topo.reset(0)
    plan = orders(1, seed=0)[0]
    _hold_capture(topo, plan.order_id)
    assert topo.orchestrator.submit(plan.order).accepted
    wait_until(lambda: _held(topo), 20, interval=0.1, what="the capture held")
    payment = topo.orchestrator.participants["payment"]  # type: ignore[attr-defined]
    payment.kill()
    httpx.post(f"{topo.admin_url('payment')}/_fracas/held/release", trust_env=False)
    payment.start()
    member = topo.orchestrator.members["payment"]  # type: ignore[attr-defined]
    payment.wait_healthy(member.healthy, 30)
    wait_until(lambda: (topo.orchestrator.status(plan.order_id) or {}).get("status")
               == "completed", 60, interval=0.1, what="the order completed")  # fmt: skip
    link = topo.broker.link  # type: ignore[union-attr]
    return plan.order_id, link.consumer_state(STREAM, "payment").delivered


def _captures(topo: Topology, order_id: str) -> int:
    rows = topo.ledgers()["payment"]["tables"]["payments"]
    return sum(1 for r in rows if r["order_id"] == order_id)


def test_an_event_unacked_at_a_crash_is_redelivered_and_makes_its_effect_once(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(choreo_spec())
    order_id, deliveries = _crash_payment_after_its_capture(topo)
    # The broker's own accounting: the one event came again (a third time only if a
    # starved participant missed its heartbeats for a whole ack wait).
    assert deliveries >= 2
    again = {(m["consumer"], m["event"], m["order_id"], m["delivery"])
             for m in topo.messages() if m["kind"] == "redelivered"}  # fmt: skip
    assert ("payment", "customer.checked", order_id, 2) in again  # the history says so too
    assert _captures(topo, order_id) == 1  # the idempotency key made the second one a replay


def test_the_no_dedup_defect_captures_again_on_that_redelivery(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(choreo_spec(payment="no-dedup"))
    order_id, deliveries = _crash_payment_after_its_capture(topo)
    assert deliveries >= 2
    assert _captures(topo, order_id) == deliveries  # one capture per delivery


def test_a_garbled_answer_to_a_compensation_is_not_taken_for_it(
    start_topology: Callable[..., Topology],
) -> None:
    """A soak of the bundled choreography found it: a release answered 200 with a
    garbled body (the fake released nothing) was taken for the release, and the failed
    order kept its stock held (failed-ledger); the same went for a garbled refund. Each
    compensation reads its answer as the capture and the reservation do, and asks again."""
    topo = start_topology(choreo_spec())
    plans = orders(1, seed=0, intents=("undeliverable",))
    oid = plans[0].order_id

    def garbled(path: str) -> dict[str, Any]:
        return {"fault": {"kind": "malformed", "target": path.split()[0], "params": {
            "method": "POST", "path": path.split()[1], "order_id": oid,
            "phase": "before_commit", "shape": "wrong_types", "times": 1}}, "at": 0}

    schedule = [garbled("inventory /reservations/*/release"),
                garbled("payment /payments/*/refunds")]  # fmt: skip
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    result.assert_consistent()
    assert result.statuses == {oid: "failed"}
    assert all(result.entry_hits.values()), result.entry_hits  # both answers were garbled
