"""The events the orchestrator publishes when it runs as the core of a hybrid saga.

Orchestrated core, events for what is downstream (the guide's hybrid): money, stock and
the shipment stay under the orchestrator, which knows the whole flow and compensates;
what follows an order's end (the customer's notification, loyalty, analytics) only
needs to hear about it, so it is published and left to participants. The payload says
everything a downstream participant needs, since it has no other way to ask.
"""

from __future__ import annotations

from typing import Any

from fracas.orchestrator.state import Saga

#: The status that ends an order -> the event that announces it (contract §8).
END_EVENTS = {"completed": "order.completed", "failed": "order.failed"}
SUBJECT_PREFIX = "fracas.saga."
MSG_ID_HEADER = "Nats-Msg-Id"
CORRELATION_HEADER = "X-Correlation-ID"


def end_event(saga: Saga) -> tuple[str, str, dict[str, Any]] | None:
    """(event, message id, body) for a saga that just ended, or None if it did not."""
    event = END_EVENTS.get(saga.status)
    if event is None:
        return None
    body: dict[str, Any] = {
        "order_id": saga.order_id,
        "order": saga.order,
        "status": saga.status,
        # Whether the customer is owed a message about a failure (the orchestrator's own
        # rule: not for an unknown customer); a completed order always is.
        "notify": saga.status == "completed" or bool(saga.ctx.get("notify_failed")),
    }
    if saga.reason:
        body["reason"] = saga.reason
    for name in ("payment_id", "reservation_id", "shipment_id"):
        if saga.ctx.get(name):
            body[name] = saga.ctx[name]
    return event, f"{saga.order_id}:{event}", body
