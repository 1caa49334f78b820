"""The choreographed order saga's wire contract, stated once (docs/contract.md §7).

A choreography has no process that knows the whole flow: each participant reacts to the
events it consumes and publishes the next. What they must agree on is only this: the
stream and its subjects, each event's name and what its payload adds, and the headers
that make an event traceable (correlation) and deduplicable (message id). The harness
publishes ``order.placed`` and reads the end from the order view; the bundled
participants (examples/choreography) and the docs read these facts from here.

Standard library only, like ``contract``: every layer may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The JetStream stream the harness creates; it holds every subject below.
STREAM = "FRACAS_SAGA"
#: Every event of the saga is published on ``SUBJECT_PREFIX + event name``.
SUBJECT_PREFIX = "fracas.saga."
#: JetStream drops a second publish with the same id within the dedup window: a publisher
#: that retries with the same id can never store an event twice.
MSG_ID_HEADER = "Nats-Msg-Id"
#: The order id, on every event and on every HTTP call it causes (the fakes' journals
#: record it), so the history joins events and calls by order.
CORRELATION_HEADER = "X-Correlation-ID"

Role = Literal["start", "forward", "failure", "compensation", "end"]


@dataclass(frozen=True)
class EventSpec:
    """One event of the saga: who publishes it, what it adds to the payload, and why."""

    name: str
    #: The bundled participant that publishes it ("harness" for ``order.placed``).
    by: str
    #: Payload fields it adds to those of the event it answers (every payload carries
    #: ``order_id`` and ``order``: each event carries the saga's state forward).
    adds: tuple[str, ...]
    role: Role
    summary: str
    #: The events it answers: its publisher publishes it after handling one of these
    #: (every one for a join). The order of the saga is this relation, not a line:
    #: payment and inventory both act on ``customer.checked``, and shipping joins them.
    answers: tuple[str, ...] = ()
    #: Whether it needs every event of ``answers`` (a join) or any one of them.
    join: bool = False


_CUSTOMER_IN = ("order.placed", "review.decided")
EVENTS: tuple[EventSpec, ...] = (
    EventSpec("order.placed", "harness", ("order",), "start",
              "the harness places an order (the order, as in §2)"),
    EventSpec("customer.checked", "customer", ("customer", "quote_cents"), "forward",
              "the customer exists, is active, and the shipping quote is known",
              _CUSTOMER_IN),
    EventSpec("customer.rejected", "customer", ("reason", "customer_exists"), "failure",
              "blocked, unknown, or rejected on review: nothing was done", _CUSTOMER_IN),
    EventSpec("customer.review_requested", "customer", ("customer",), "forward",
              "a high-risk customer: a person must approve or reject the order",
              ("order.placed",)),
    EventSpec("review.decided", "orders", ("decision",), "forward",
              "the order view took the first decision posted to it (approve or reject)",
              ("customer.review_requested",)),
    EventSpec("payment.captured", "payment", ("payment_id", "amount_cents"), "forward",
              "lines total + quote captured", ("customer.checked",)),
    EventSpec("payment.declined", "payment", ("reason",), "failure",
              "the card was declined: nothing captured; inventory must release",
              ("customer.checked",)),
    EventSpec("inventory.reserved", "inventory", ("reservation_id",), "forward",
              "every line held (beside the capture, not after it)", ("customer.checked",)),
    EventSpec("inventory.rejected", "inventory", ("reason",), "failure",
              "out of stock: nothing held; payment must refund", ("customer.checked",)),
    EventSpec("shipping.shipped", "shipping", ("shipment_id",), "forward",
              "the shipment is created, once both the capture and the reservation are in",
              ("payment.captured", "inventory.reserved"), join=True),
    EventSpec("shipping.rejected", "shipping", ("reason",), "failure",
              "undeliverable: inventory must release, then payment refund",
              ("payment.captured", "inventory.reserved"), join=True),
    EventSpec("inventory.released", "inventory", (), "compensation",
              "the reservation is released, if one was made (after a decline or an "
              "undeliverable address); payment then refunds", ("payment.declined",
                                                               "shipping.rejected")),
    EventSpec("payment.refunded", "payment", ("refund_id",), "compensation",
              "the capture is refunded in full, if one was made (after a rejection "
              "downstream)", ("inventory.rejected", "inventory.released")),
    EventSpec("order.completed", "notify", ("message_id",), "end",
              "order_confirmed sent: the order is complete", ("shipping.shipped",)),
    EventSpec("order.failed", "notify", ("reason", "message_id"), "end",
              "order_failed sent (none for an unknown customer): the order failed",
              ("customer.rejected", "payment.refunded")),
)  # fmt: skip
BY_NAME = {e.name: e for e in EVENTS}
PLACED = "order.placed"
#: The saga step (contract.SAGA) whose outcome each event reports: the step its
#: publisher took before it published. ``order.placed`` and ``review.decided`` report no
#: step (the harness and the order view publish them).
STEP_OF: dict[str, str] = {
    "customer.checked": "customer", "customer.rejected": "customer",
    "customer.review_requested": "customer",
    "payment.captured": "capture", "payment.declined": "capture",
    "inventory.reserved": "reserve", "inventory.rejected": "reserve",
    "shipping.shipped": "ship", "shipping.rejected": "ship",
    "inventory.released": "release", "payment.refunded": "refund",
    "order.completed": "notify", "order.failed": "notify",
}  # fmt: skip
_CHECKED = (PLACED, "customer.checked")
_REVIEWED = (PLACED, "customer.review_requested", "review.decided", "customer.checked")
_BOTH = ("payment.captured", "inventory.reserved")
#: The events of one order of each intent (contract.INTENTS) when nothing goes wrong, in
#: an order they can be published in: what the search aims message faults at. Payment's
#: and inventory's events after ``customer.checked`` may come in either order
#: (``answers`` says what each follows; ``cause`` reads it).
PATHS: dict[str, tuple[str, ...]] = {
    "ok": (*_CHECKED, *_BOTH, "shipping.shipped", "order.completed"),
    "blocked": (PLACED, "customer.rejected", "order.failed"),
    "unknown_customer": (PLACED, "customer.rejected", "order.failed"),
    "declined": (*_CHECKED, "inventory.reserved", "payment.declined", "inventory.released",
                 "payment.refunded", "order.failed"),
    "out_of_stock": (*_CHECKED, "payment.captured", "inventory.rejected", "payment.refunded",
                     "order.failed"),
    "undeliverable": (*_CHECKED, *_BOTH, "shipping.rejected", "inventory.released",
                      "payment.refunded", "order.failed"),
    "review_approve": (*_REVIEWED, *_BOTH, "shipping.shipped", "order.completed"),
    "review_reject": (PLACED, "customer.review_requested", "review.decided",
                      "customer.rejected", "order.failed"),
    "review_timeout": (PLACED, "customer.review_requested", "customer.rejected",
                       "order.failed"),
}  # fmt: skip
#: The events that end an order, and the status each gives it in the order view.
END_STATUS = {"order.completed": "completed", "order.failed": "failed"}


def subject(event: str) -> str:
    """The subject ``event`` is published on."""
    if event not in BY_NAME:
        raise ValueError(f"unknown saga event {event!r}; expected one of {', '.join(BY_NAME)}")
    return SUBJECT_PREFIX + event


def event_of(subject_: str) -> str | None:
    """The event a subject carries, or None for a subject outside the saga."""
    name = subject_.removeprefix(SUBJECT_PREFIX)
    return name if subject_.startswith(SUBJECT_PREFIX) and name in BY_NAME else None


def cause(path: tuple[str, ...], event: str) -> str | None:
    """The event on ``path`` that sets ``event`` off: the last one before it that it
    answers (for a join, the later of the two). None for ``order.placed``, and for an
    event a clock sets off (a review timeout's rejection answers no event of its path)."""
    before = path[: path.index(event)]
    return next((e for e in reversed(before) if e in BY_NAME[event].answers), None)


def msg_id(order_id: str, event: str) -> str:
    """The message id of ``event`` for one order: the same on every retry of that publish,
    so the broker's dedup window stores it once."""
    return f"{order_id}:{event}"
