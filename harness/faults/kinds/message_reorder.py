"""Two events of one order delivered out of order: the fault proxy holds the first
delivery of ``event`` until a delivery of ``then_event`` of the same order has passed,
then lets it go. A participant that takes every event (the order view) sees the later
one first; ``max_hold_ms`` bounds the wait for one that never comes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fracas.fakes.events import BY_NAME
from fracas.harness.faults.base import FaultValidationError, Param, register
from fracas.harness.faults.message import CONSUMER, EVENT, ORDER_ID, MessageFault

THEN_EVENT = Param("then_event", "str", "the later event that is let through first",
                   choices=tuple(BY_NAME), example="order.completed")  # fmt: skip


@register
class MessageReorder(MessageFault):
    kind = "message_reorder"
    summary = "hold an event's delivery until a later event of the same order has passed"
    toxic_type = "nats_reorder"
    params_spec = (
        EVENT, THEN_EVENT, ORDER_ID, CONSUMER,
        Param("max_hold_ms", "int", "the longest the first delivery is held, in ms",
              default=10_000, minimum=0, maximum=600_000),
    )  # fmt: skip

    @classmethod
    def check_together(cls, params: Mapping[str, Any]) -> None:
        if params["event"] == params["then_event"]:
            raise FaultValidationError(
                "params.then_event", f"another event than params.event ({params['event']})",
                params["then_event"], "Set then_event to the event that should overtake it.")

    def attributes(self) -> dict[str, Any]:
        p = self.params
        return {**super().attributes(), "then_event": p["then_event"],
                "consumer": p.get("consumer") or "", "max_hold": p["max_hold_ms"]}  # fmt: skip
