"""The order saga as one Temporal workflow per order (workflow id = order id).

Temporal makes it durable: each service call is an activity with a RetryPolicy, its
result is in the workflow's event history, and after a crash the worker replays the
history and carries on. Review is a signal; its timeout is a durable timer
(`wait_condition(..., timeout=...)`). The test clock is a signal too: `advance` tells
a waiting workflow that N seconds passed, and the wait ends once the skipped time plus
the time really waited reaches the timeout.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import activities as act

REVIEW_TIMEOUT = 48 * 3600.0
#: ~40 s of retries, longer than any fault the suite schedules.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=0.1), backoff_coefficient=1.5,
                    maximum_interval=timedelta(seconds=5), maximum_attempts=16)


@workflow.defn
class OrderSaga:
    def __init__(self) -> None:
        self.view: dict[str, Any] = {"status": "pending"}
        self.order: dict[str, Any] = {}
        self.decision: str | None = None
        self.skipped = 0.0

    @workflow.signal
    def review(self, decision: str) -> None:
        if self.decision is None:
            self.decision = decision

    @workflow.signal
    def advance(self, seconds: float) -> None:
        self.skipped += seconds

    @workflow.query
    def status(self) -> dict[str, Any]:
        return self.view

    @workflow.query
    def submitted(self) -> dict[str, Any]:
        return self.order

    def publish(self, status: str, **extra: Any) -> None:
        self.view = {"order_id": self.order["order_id"], "status": status, **extra}

    async def call(self, fn: Any, *args: Any) -> Any:
        return await workflow.execute_activity(
            fn, args=args, start_to_close_timeout=timedelta(seconds=5), retry_policy=RETRY)

    async def await_review(self) -> str:
        start = workflow.now()

        def over() -> bool:
            waited = (workflow.now() - start).total_seconds()
            return self.skipped + waited >= REVIEW_TIMEOUT

        try:
            await workflow.wait_condition(lambda: self.decision is not None or over(),
                                          timeout=REVIEW_TIMEOUT)
        except TimeoutError:
            return "timeout"
        return self.decision or "timeout"

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        self.order = order
        oid, cid, lines = order["order_id"], order["customer_id"], order["lines"]
        undo: list[tuple[Any, str]] = []
        ids: dict[str, str] = {}

        async def fail(reason: str) -> dict[str, Any]:
            for fn, key in reversed(undo):
                try:
                    await self.call(fn, oid, ids.get(key))
                except ActivityError as exc:
                    self.publish("needs_attention", reason=f"compensation stuck: {exc}", **ids)
                    return self.view
            await self.call(act.notify, oid, cid, "order_failed")
            self.publish("failed", reason=reason, **ids)
            return self.view

        self.publish("running")
        step = "crm"
        try:
            customer = await self.call(act.get_customer, oid, cid)
            if customer is None:
                self.publish("failed", reason="unknown customer")
                return self.view
            if customer["status"] == "blocked":
                return await fail("customer blocked")
            if customer["risk"] == "high":
                self.publish("awaiting_review")
                decision = await self.await_review()
                if decision != "approve":
                    return await fail(f"review: {decision}")
                self.publish("running")
            step = "quote"
            address = customer["address"]
            amount = sum(ln["qty"] * ln["unit_price_cents"] for ln in lines)
            amount += await self.call(act.quote, oid, address, lines)
            step = "capture"
            undo.append((act.refund, "payment_id"))
            payment_id = await self.call(act.capture, oid, amount, order["currency"],
                                         order["card_token"])
            if payment_id is None:
                undo.pop()
                return await fail("card declined")
            ids["payment_id"] = payment_id
            step = "reserve"
            undo.append((act.release, "reservation_id"))
            reservation_id = await self.call(act.reserve, oid, lines)
            if reservation_id is None:
                undo.pop()
                return await fail("out of stock")
            ids["reservation_id"] = reservation_id
            step = "ship"
            undo.append((act.cancel_shipment, "shipment_id"))
            shipment_id = await self.call(act.ship, oid, reservation_id, address)
            if shipment_id is None:
                undo.pop()
                return await fail("undeliverable")
            ids["shipment_id"] = shipment_id
            step = "confirm"
            await self.call(act.notify, oid, cid, "order_confirmed")
        except ActivityError as exc:
            if step in ("crm", "confirm"):
                self.publish("needs_attention", reason=f"gave up on {step}: {exc}", **ids)
                return self.view
            return await fail(f"gave up on {step}: {exc}")
        self.publish("completed", **ids)
        return self.view
