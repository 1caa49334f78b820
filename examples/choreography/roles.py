"""What each bundled participant does with the events it consumes (docs/choreography.md).

A handler makes its effects through the fakes and returns the events to publish next;
the runtime commits them to the outbox with the event's dedup mark, publishes, then
acks. Every payload carries the saga forward: ``order_id``, ``order`` and what each
step added (fracas/fakes/events.py lists who adds what).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from calls import Services

from fracas.fakes.events import END_STATUS, PLACED


class Context(Protocol):
    services: Services
    store: Any

    def key(self, order_id: str, step: str) -> str | None: ...

    def bug(self, name: str) -> bool: ...


@dataclass
class Outcome:
    publish: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: What this participant made for the order (a compensation later undoes it).
    created: dict[str, Any] | None = None


def need(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """A field of a service's answer, of the type the contract gives it: a garbled answer
    (a malformed-answer fault) raises, and the runtime asks again with the same key."""
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"answer without a valid {name}: {body!r:.200}")
    return value


def _next(body: dict[str, Any], event: str, **adds: Any) -> Outcome:
    return Outcome([(event, {**body, **adds})])


async def customer(ctx: Context, event: str, body: dict[str, Any]) -> Outcome:
    if event == "review.decided":
        if body.get("decision") != "approve":
            return _next(body, "customer.rejected", reason="review-rejected",
                         customer_exists=True)
        return await _quote(ctx, body, body["customer"])
    order, oid = body["order"], body["order_id"]
    got = await ctx.services.call("crm", "GET", f"/customers/{order['customer_id']}", oid,
                                  params={"order_id": oid})
    if got.status == 404:
        return _next(body, "customer.rejected", reason="unknown-customer", customer_exists=False)
    cus = got.body
    need(cus, "address", dict)
    if need(cus, "status", str) not in ("active", "blocked") or need(cus, "risk", str) not in (
            "low", "high"):
        raise ValueError(f"customer answer out of the contract: {cus!r:.200}")
    if cus["status"] == "blocked":
        return _next(body, "customer.rejected", reason="customer-blocked", customer_exists=True)
    if cus["risk"] == "high":  # a person decides, through the order view
        return _next(body, "customer.review_requested", customer=cus)
    return await _quote(ctx, body, cus)


async def _quote(ctx: Context, body: dict[str, Any], cus: dict[str, Any]) -> Outcome:
    oid = body["order_id"]
    quote = await ctx.services.call("shipping", "POST", "/quotes", oid, json={
        "address": cus["address"], "lines": body["order"]["lines"], "order_id": oid})
    return _next(body, "customer.checked", customer=cus,
                 quote_cents=need(quote.body, "amount_cents", int))


class NotYet(Exception):
    """The event came before the one it depends on (a compensation before the create it
    undoes): the runtime gives it back to the broker, to be delivered again later."""


async def payment(ctx: Context, event: str, body: dict[str, Any]) -> Outcome:
    oid, order = body["order_id"], body["order"]
    if event != "customer.checked":
        return await _refund(ctx, body)
    total = sum(li["qty"] * li["unit_price_cents"] for li in order["lines"]) + body["quote_cents"]
    got = await ctx.services.call("payment", "POST", "/payments", oid, key=ctx.key(oid, "capture"),
                                  json={"order_id": oid, "amount_cents": total,
                                        "currency": order["currency"],
                                        "card_token": order["card_token"]})
    if got.status == 402:  # nothing made, and known: a refund after it has nothing to do
        return Outcome([("payment.declined", {**body, "reason": "card-declined"})], created={})
    if got.status != 201:
        raise ValueError(f"capture answered {got.status}")
    made = {"payment_id": need(got.body, "payment_id", str), "amount_cents": total}
    return Outcome([("payment.captured", {**body, **made})], created=made)


def _undo(ctx: Context, body: dict[str, Any]) -> dict[str, Any] | None:
    """What this participant made for the order, which a compensation undoes: ``{}`` for
    nothing (its step refused). Payment and inventory both act on ``customer.checked``,
    so the other's failure can come first (a late delivery, a crash and restart): then
    the compensation waits for the create, which may still be made. ``cancel-first``
    takes "not made yet" for "nothing made", and the create that comes after it stays."""
    made = ctx.store.created(body["order_id"])
    if made is None and not ctx.bug("cancel-first"):
        raise NotYet(f"{body['order_id']}: customer.checked not handled yet")
    return made or None


async def _refund(ctx: Context, body: dict[str, Any]) -> Outcome:
    oid = body["order_id"]
    made = _undo(ctx, body)
    if made is None:
        return _next(body, "payment.refunded", refund_id=None)
    got = await ctx.services.call(
        "payment", "POST", f"/payments/{made['payment_id']}/refunds", oid,
        key=ctx.key(oid, "refund"), json={"amount_cents": made["amount_cents"]})
    if got.status not in (201, 409):  # 409: refunded in full already
        raise ValueError(f"refund answered {got.status}")
    # A garbled 201 is no refund: taken as one, the failed order kept its charge.
    refund_id = need(got.body, "refund_id", str) if got.status == 201 else None
    return _next(body, "payment.refunded", refund_id=refund_id)


async def inventory(ctx: Context, event: str, body: dict[str, Any]) -> Outcome:
    oid, order = body["order_id"], body["order"]
    if event != "customer.checked":  # payment.declined or shipping.rejected
        return await _release(ctx, body)
    lines = [{"sku": li["sku"], "qty": li["qty"]} for li in order["lines"]]
    got = await ctx.services.call("inventory", "POST", "/reservations", oid,
                                  key=ctx.key(oid, "reserve"),
                                  json={"order_id": oid, "lines": lines})
    if got.status == 409:
        return Outcome([("inventory.rejected", {**body, "reason": "out-of-stock"})], created={})
    if got.status != 201:
        raise ValueError(f"reserve answered {got.status}")
    made = {"reservation_id": need(got.body, "reservation_id", str)}
    return Outcome([("inventory.reserved", {**body, **made})], created=made)


async def _release(ctx: Context, body: dict[str, Any]) -> Outcome:
    oid = body["order_id"]
    made = _undo(ctx, body)
    if made is not None:
        rid = made["reservation_id"]
        got = await ctx.services.call("inventory", "POST", f"/reservations/{rid}/release", oid,
                                      key=ctx.key(oid, "release"))
        if got.status != 200:
            raise ValueError(f"release answered {got.status}")
        if need(got.body, "status", str) != "released":
            # A garbled 200 (wrong types, say) is no release: taken as one, the failed
            # order kept its stock held (found by a soak of this example, issue 20).
            raise ValueError(f"release answer out of the contract: {got.body!r:.200}")
    return _next(body, "inventory.released")


#: What shipping waits for: the capture and the reservation, in either order.
JOINED = ("payment.captured", "inventory.reserved")


async def shipping(ctx: Context, event: str, body: dict[str, Any]) -> Outcome:
    oid = body["order_id"]
    body = ctx.store.join(oid, event, body, JOINED)
    if body is None:
        return Outcome()  # the other half is still to come
    got = await ctx.services.call("shipping", "POST", "/shipments", oid, key=ctx.key(oid, "ship"),
                                  json={"order_id": oid, "reservation_id": body["reservation_id"],
                                        "address": body["customer"]["address"]})
    if got.status == 422:
        return _next(body, "shipping.rejected", reason="undeliverable")
    if got.status != 201:
        raise ValueError(f"shipment answered {got.status}")
    return _next(body, "shipping.shipped", shipment_id=need(got.body, "shipment_id", str))


async def notify(ctx: Context, event: str, body: dict[str, Any]) -> Outcome:
    oid, order = body["order_id"], body["order"]
    ok = event == "shipping.shipped"
    if not ok and body.get("customer_exists") is False:
        return _next(body, "order.failed", message_id=None)
    template = "order_confirmed" if ok else "order_failed"
    got = await ctx.services.call("notify", "POST", "/messages", oid, key=ctx.key(oid, template),
                                  json={"order_id": oid, "customer_id": order["customer_id"],
                                        "template": template})
    if got.status != 201:
        raise ValueError(f"message answered {got.status}")
    end = "order.completed" if ok else "order.failed"
    return _next(body, end, message_id=need(got.body, "message_id", str))


def view_status(event: str, body: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """The order view's answer for ``GET /orders/{id}`` after ``event`` (contract §2's
    shape): an ended order stays ended, whatever comes after."""
    if before is not None and before["status"] in ("completed", "failed"):
        return before
    status = END_STATUS.get(event, "pending" if event == PLACED else "running")
    if event == "customer.review_requested":
        status = "awaiting_review"
    out = {"order_id": body["order_id"], "status": status}
    for name in ("reason", "payment_id", "reservation_id", "shipment_id"):
        if body.get(name) is not None:
            out[name] = body[name]
    return out


Handler = Callable[[Context, str, dict[str, Any]], Awaitable[Outcome]]
HANDLERS: dict[str, Handler] = {
    "customer": customer, "payment": payment, "inventory": inventory,
    "shipping": shipping, "notify": notify,
}
