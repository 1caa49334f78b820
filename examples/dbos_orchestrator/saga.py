"""The order saga as one DBOS workflow per order (workflow id = order id).

DBOS makes it durable: each service call is a step whose result is checkpointed in the
SQLite system database, so after a crash `DBOS.launch()` resumes the workflow at the
first step that did not finish. The status the HTTP API reports is a workflow event
(`DBOS.set_event`), so it is as durable as the steps.

Compensation runs in reverse over what was done. A step whose retries ran out has an
unknown outcome; its compensation looks the effect up by order id instead of by the id
it never got. When a compensation itself cannot finish, the order is `needs_attention`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import clock
import services as svc
from dbos import DBOS
from dbos._error import DBOSMaxStepRetriesExceeded

REVIEW_TIMEOUT = float(os.environ.get("DBOS_ORCH_REVIEW_TIMEOUT", 48 * 3600))
#: `--bug no-compensation` (for tests that prove fracas catches it): forget to undo.
BUGS = svc.BUGS


def publish(oid: str, status: str, **extra: Any) -> None:
    DBOS.set_event("order", {"order_id": oid, "status": status, **extra})


def await_review(oid: str) -> str:
    """A durable wait: `recv` until a decision or the test-clock deadline.

    The deadline is a step on the test clock (real time + the offset advance_clock
    added), so it survives a crash. advance_clock sends a "tick" message; the loop
    wakes, re-reads the clock and sees the deadline passed. Without ticks, recv's own
    timeout (the real time left) ends the wait.
    """
    deadline = clock.now_step() + REVIEW_TIMEOUT
    while True:
        left = deadline - clock.now_step()
        if left <= 0:
            return "timeout"
        msg = DBOS.recv("review", timeout_seconds=left)
        if isinstance(msg, dict) and msg.get("decision") in ("approve", "reject"):
            return str(msg["decision"])


@DBOS.workflow()
def order_saga(order: dict[str, Any]) -> str:
    oid, cid = order["order_id"], order["customer_id"]
    lines = order["lines"]
    undo: list[Callable[[], None]] = []
    ids: dict[str, str] = {}

    def fail(reason: str) -> str:
        for step in reversed(undo if "no-compensation" not in BUGS else []):
            try:
                step()
            except DBOSMaxStepRetriesExceeded as exc:
                publish(oid, "needs_attention", reason=f"compensation stuck: {exc}", **ids)
                return "needs_attention"
        svc.notify(oid, cid, "order_failed")
        publish(oid, "failed", reason=reason, **ids)
        return "failed"

    publish(oid, "running")
    step = "crm"
    try:
        customer = svc.get_customer(oid, cid)
        if customer is None:
            publish(oid, "failed", reason="unknown customer")
            return "failed"
        if customer["status"] == "blocked":
            return fail("customer blocked")
        if customer["risk"] == "high":
            publish(oid, "awaiting_review")
            decision = await_review(oid)
            if decision != "approve":
                return fail(f"review: {decision}")
            publish(oid, "running")
        step = "quote"
        address = customer["address"]
        amount = sum(ln["qty"] * ln["unit_price_cents"] for ln in lines)
        amount += svc.quote(oid, address, lines)
        step = "capture"
        undo.append(lambda: svc.refund(oid, ids.get("payment_id")))
        payment_id = svc.capture(oid, amount, order["currency"], order["card_token"])
        if payment_id is None:
            undo.pop()
            return fail("card declined")
        ids["payment_id"] = payment_id
        step = "reserve"
        undo.append(lambda: svc.release(oid, ids.get("reservation_id")))
        reservation_id = svc.reserve(oid, lines)
        if reservation_id is None:
            undo.pop()
            return fail("out of stock")
        ids["reservation_id"] = reservation_id
        step = "ship"
        undo.append(lambda: svc.cancel_shipment(oid, ids.get("shipment_id")))
        shipment_id = svc.ship(oid, reservation_id, address)
        if shipment_id is None:
            undo.pop()
            return fail("undeliverable")
        ids["shipment_id"] = shipment_id
        step = "confirm"
        svc.notify(oid, cid, "order_confirmed")
    except DBOSMaxStepRetriesExceeded as exc:
        if step in ("crm", "confirm"):  # nothing to undo, or everything done: a person decides
            publish(oid, "needs_attention", reason=f"gave up on {step}: {exc}", **ids)
            return "needs_attention"
        return fail(f"gave up on {step}: {exc}")
    publish(oid, "completed", **ids)
    return "completed"
