"""The forward steps: customer -> [review] -> quote -> capture -> reserve -> ship -> confirm.

Each effectful step writes its intent before its call and, when the answer is in doubt,
asks the ledger whether the effect exists rather than guessing; a refusal or an outage
hands the order to compensation (``compensation.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fracas.orchestrator import validate
from fracas.orchestrator.calls import ServiceCalls
from fracas.orchestrator.clients import Outcome
from fracas.orchestrator.clock import Clock
from fracas.orchestrator.config import Config
from fracas.orchestrator.state import Saga, idempotency_key


class ForwardSteps(ServiceCalls):
    """One method per forward step; the engine (``saga.Engine``) sets the fields."""

    config: Config
    clock: Clock

    async def _customer(self, saga: Saga) -> None:
        cid = saga.order["customer_id"]
        # ?order_id= is not needed by the CRM; it lets its journal and fault rules
        # attribute the read to this order, like every other call.
        o = await self._call(
            "crm", "GET", f"/customers/{cid}", saga=saga, step="customer",
            validator=validate.customer, params={"order_id": saga.order_id},
        )  # fmt: skip
        if o.ok:
            if o.body["customer_id"] != cid:
                o = Outcome("unknown", error="crm answered for another customer")
            else:
                saga.ctx["customer"] = {
                    "status": o.body["status"],
                    "risk": o.body["risk"],
                    "address": o.body["address"],
                }
        if o.ok:
            if o.body["status"] == "blocked":
                self._fail(saga, "customer-blocked", event=("customer", "blocked"), outcome=o)
            elif o.body["risk"] == "high":
                self._move(
                    saga,
                    "review",
                    status="awaiting_review",
                    event=("customer", "awaiting_review"),
                    outcome=o,
                    review_deadline=self.clock.now() + self.config.review_timeout,
                )
            else:
                self._move(saga, "quote", event=("customer", "ok"), outcome=o)
        elif o.kind == "refused":
            # No such customer: nothing was done and there is nobody to notify.
            self._fail(
                saga, f"customer-{o.problem or 'refused'}", event=("customer", "refused"),
                outcome=o, notify=False,
            )  # fmt: skip
        else:
            # Nothing has been done. Whether the customer exists is unknown, so tell
            # them: §5 wants order_failed if they exist and tolerates one if not.
            self._fail(saga, "crm-unavailable", event=("customer", "unknown"), outcome=o,
                       notify=True)  # fmt: skip

    async def _quote(self, saga: Saga) -> None:
        body = {
            # Extra fields are ignored by the quote; order_id attributes it to the order.
            "order_id": saga.order_id,
            "address": saga.ctx["customer"]["address"],
            "lines": [{"sku": ln["sku"], "qty": ln["qty"]} for ln in saga.order["lines"]],
        }
        o = await self._call(
            "shipping", "POST", "/quotes", saga=saga, step="quote", validator=validate.quote,
            body=body, key=idempotency_key(saga.order_id, "quote"),
        )  # fmt: skip
        if o.ok:
            lines_total = sum(ln["qty"] * ln["unit_price_cents"] for ln in saga.order["lines"])
            saga.ctx["quote_cents"] = o.body["amount_cents"]
            saga.ctx["amount_cents"] = lines_total + o.body["amount_cents"]
            self._move(saga, "capture", event=("quote", "ok"), outcome=o)
        elif o.kind == "refused":
            self._fail(saga, f"quote-{o.problem}", event=("quote", "refused"), outcome=o)
        else:
            self._fail(saga, "shipping-unavailable", event=("quote", "unknown"), outcome=o)

    async def _capture(self, saga: Saga) -> None:
        amount = saga.ctx["amount_cents"]
        self._intend(saga, "capture")
        body = {
            "order_id": saga.order_id,
            "amount_cents": amount,
            "currency": saga.order["currency"],
            "card_token": saga.order["card_token"],
        }
        o = await self._call(
            "payment", "POST", "/payments", saga=saga, step="capture",
            validator=validate.payment(saga.order_id, amount), body=body,
            key=idempotency_key(saga.order_id, "capture"),
        )  # fmt: skip
        found = await self._effect(saga, o, "capture", "payment", "/payments", "payments",
                                   "payment_id", lambda r: r.get("status") == "captured")  # fmt: skip
        if found is not None:
            saga.ctx["payment_id"] = found["payment_id"]
            self._move(saga, "reserve", event=("capture", "ok"), outcome=o,
                       detail={"payment_id": found["payment_id"]})  # fmt: skip
        elif o.kind == "refused":
            self._refused(saga, o, "capture", {"card-declined"})
        else:
            self._fail(saga, "payment-unavailable", event=("capture", "unknown"), outcome=o)

    async def _reserve(self, saga: Saga) -> None:
        self._intend(saga, "reserve")
        body = {
            "order_id": saga.order_id,
            "lines": [{"sku": ln["sku"], "qty": ln["qty"]} for ln in saga.order["lines"]],
        }
        o = await self._call(
            "inventory", "POST", "/reservations", saga=saga, step="reserve",
            validator=validate.reservation(saga.order_id), body=body,
            key=idempotency_key(saga.order_id, "reserve"),
        )  # fmt: skip
        found = await self._effect(saga, o, "reserve", "inventory", "/reservations",
                                   "reservations", "reservation_id",
                                   lambda r: r.get("status") == "held")  # fmt: skip
        if found is not None:
            saga.ctx["reservation_id"] = found["reservation_id"]
            self._move(saga, "ship", event=("reserve", "ok"), outcome=o,
                       detail={"reservation_id": found["reservation_id"]})  # fmt: skip
        elif o.kind == "refused":
            self._refused(saga, o, "reserve", {"out-of-stock"})
        else:
            self._fail(saga, "inventory-unavailable", event=("reserve", "unknown"), outcome=o)

    async def _ship(self, saga: Saga) -> None:
        self._intend(saga, "ship")
        body = {
            "order_id": saga.order_id,
            "reservation_id": saga.ctx["reservation_id"],
            "address": saga.ctx["customer"]["address"],
        }
        o = await self._call(
            "shipping", "POST", "/shipments", saga=saga, step="ship",
            validator=validate.shipment, body=body, key=idempotency_key(saga.order_id, "ship"),
        )  # fmt: skip
        if o.ok and o.body.get("status") != "created":
            o = Outcome("unknown", ambiguous=True, error="shipment not in state created",
                        attempts=o.attempts, duration=o.duration)  # fmt: skip
        found = await self._effect(saga, o, "ship", "shipping", "/shipments", "shipments",
                                   "shipment_id", lambda r: r.get("status") == "created")  # fmt: skip
        if found is not None:
            saga.ctx["shipment_id"] = found["shipment_id"]
            self._move(saga, "confirm", event=("ship", "ok"), outcome=o,
                       detail={"shipment_id": found["shipment_id"]})  # fmt: skip
        elif o.kind == "refused":
            self._refused(saga, o, "ship", {"undeliverable"})
        else:
            self._fail(saga, "shipping-unavailable", event=("ship", "unknown"), outcome=o)

    async def _confirm(self, saga: Saga) -> None:
        if self.relay is not None:  # the hybrid: order.completed goes out, notify sends it
            self._move(saga, "done", status="completed", event=("confirm", "announced"))
            return
        sent, o = await self._notify(saga, "order_confirmed", "confirm")
        if sent:
            self._move(saga, "done", status="completed", event=("confirm", "completed"))
        else:
            self._attention(saga, f"order_confirmed not sent: {o.error or o.problem}", o,
                            "confirm")  # fmt: skip

    async def _effect(
        self,
        saga: Saga,
        o: Outcome,
        purpose: str,
        service: str,
        path: str,
        table: str,
        id_field: str,
        live: Callable[[dict[str, Any]], bool],
    ) -> dict[str, Any] | None:
        """The effect a forward call made: its answer, or the ledger's word after doubt."""
        if o.ok:
            return dict(o.body)
        if o.kind != "unknown" or not o.ambiguous:
            return None
        rows = await self._lookup(service, path, table, saga, purpose, id_field)
        if rows is None:
            return None
        mine = [r for r in rows if live(r)]
        key = idempotency_key(saga.order_id, purpose)
        mine.sort(key=lambda r: r.get("idempotency_key") != key)
        return mine[0] if mine else None

    def _refused(self, saga: Saga, o: Outcome, purpose: str, business: set[str]) -> None:
        if o.problem != "idempotency-key-reused":
            self._forget(saga, purpose)
        reason = o.problem if o.problem in business else f"{purpose}-refused:{o.problem}"
        self._fail(saga, reason or f"{purpose}-refused", event=(purpose, "refused"), outcome=o)
