"""The input rules (issue 22) on the two cases a soak of the bundled orchestrator found
them wrong about, and the neighbouring cases they must still catch:

- ``input-answers``: a decision sent for an order not awaiting review *yet* (pending)
  may land once it does, if it is a high-risk customer's order whose review has not
  been answered: 200 is then right. For an order that never asks, or whose review was
  answered already, it is still a violation.
- ``input-effects``: another body under a known id, refused, on an order that fails in
  review (rejected) is not what failed it. An order with no such cause still is.

Customers of the synthetic world: every 5th is high-risk (cus-0005), cus-0001 is not.
"""

from __future__ import annotations

from typing import Any

from checkers_helpers import named, verdict
from synth_ledger import SynthWorld


def unasked(w: SynthWorld, oid: str, code: int, **extra: Any) -> None:
    """review_unasked's reject, sent while the order was pending, answered ``code``."""
    op = w.history.invoke(
        "client_review", oid, decision="reject", fault="f-unasked", kind="review_unasked",
        expect=[409], in_review=[200, 409], race=False, note="while the order is pending",
        **extra,
    )
    (op.ok if code < 300 else op.fail)(status_code=code, body={})


def rejected_in_review(w: SynthWorld, oid: str) -> None:
    w.lookup(oid)
    w.notify(oid, "order_failed")
    w.report(oid, "failed", reason="review-rejected")


def test_a_decision_sent_before_review_may_land_in_it(world: SynthWorld) -> None:
    world.order("ord-high", "cus-0005")
    unasked(world, "ord-high", 200)  # it reached review first: the reject took
    rejected_in_review(world, "ord-high")
    assert named(verdict(world)) == set()


def completed(w: SynthWorld, oid: str, customer: str, *, review: bool) -> None:
    """The order completes; ``review``: approved in review first, then ``unasked``'s
    reject answered 200 (whatever the order did, a wrong answer)."""
    w.order(oid, customer)
    w.lookup(oid)
    if review:
        w.history.invoke("review", oid, decision="approve").ok(status_code=200)
    unasked(w, oid, 200)
    pay, res = w.capture(oid), w.reserve(oid)
    shp = w.ship(oid, res)
    w.notify(oid, "order_confirmed")
    w.report(oid, "completed", payment_id=pay["payment_id"],
             reservation_id=res["reservation_id"], shipment_id=shp["shipment_id"])  # fmt: skip


def test_an_order_that_never_asks_for_review_must_refuse_it(world: SynthWorld) -> None:
    completed(world, "ord-low", "cus-0001", review=False)
    assert named(verdict(world)) == {("input-answers", "ord-low")}


def test_a_review_answered_already_is_not_asked_again(world: SynthWorld) -> None:
    completed(world, "ord-high", "cus-0005", review=True)
    assert named(verdict(world)) == {("input-answers", "ord-high")}


def another_body(w: SynthWorld, oid: str) -> None:
    body = {**w.orders[oid], "lines": [{"sku": "SKU-0002", "qty": 9, "unit_price_cents": 1}]}
    op = w.history.invoke(
        "client_submit", oid, order=body, fault="f-other", kind="resubmit_other",
        expect=[409], race=False, note="while the order is running",
    )
    op.fail(status_code=409, body={"type": "order-conflict", "status": 409})


def test_another_body_refused_on_an_order_rejected_in_review(world: SynthWorld) -> None:
    world.order("ord-high", "cus-0005")
    world.history.invoke("review", "ord-high", decision="reject").ok(status_code=200)
    another_body(world, "ord-high")
    rejected_in_review(world, "ord-high")
    assert named(verdict(world)) == set()


def test_another_body_refused_that_still_failed_the_order(world: SynthWorld) -> None:
    world.order("ord-low", "cus-0001")
    another_body(world, "ord-low")
    world.lookup("ord-low")
    world.notify("ord-low", "order_failed")
    world.report("ord-low", "failed")
    assert ("input-effects", "ord-low") in named(verdict(world))


def test_a_message_fault_on_the_orchestrator_is_a_cause_not_an_input(world: SynthWorld) -> None:
    """A hybrid's crash at its orchestrator's end-event publish is aimed at an order on
    the orchestrator, as a client input is; it is a fault that hit the run, a cause of
    the order's own (read as an input, it made the order above a violation)."""
    world.order("ord-low", "cus-0001")
    crash = {"kind": "message_publish_crash", "target": "orchestrator",
             "params": {"order_id": "ord-low", "event": "order.failed"}}  # fmt: skip
    world.history.fault_applied(crash, "orchestrator").healed()
    another_body(world, "ord-low")
    world.lookup("ord-low")
    world.notify("ord-low", "order_failed")
    world.report("ord-low", "failed")
    assert ("input-effects", "ord-low") not in named(verdict(world))
