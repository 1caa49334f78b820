"""An event delivered late: its delivery is held in the fault proxy for ``delay_ms``
while everything else on the connection flows. The broker's ack wait runs from when it
sent it, so a delay past the ack wait also makes JetStream deliver it again while the
first copy is on its way: the late copy arrives after the event was handled."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.message import CONSUMER, EVENT, ORDER_ID, TIMES, MessageFault


@register
class MessageLate(MessageFault):
    kind = "message_late"
    summary = "hold an event's delivery in the fault proxy for delay_ms"
    toxic_type = "nats_hold"
    params_spec = (
        EVENT,
        Param("delay_ms", "int", "how long the delivery is held, in ms", minimum=0,
              maximum=600_000, example=1500),
        ORDER_ID, CONSUMER, TIMES,
    )  # fmt: skip

    def attributes(self) -> dict[str, Any]:
        p = self.params
        return {"event": p["event"], "order_id": p.get("order_id") or "",
                "consumer": p.get("consumer") or "", "delay": p["delay_ms"],
                "times": p["times"]}  # fmt: skip
