"""A publish whose acknowledgement is lost: the broker stores the event and its PubAck
is dropped on the way back. The publisher cannot tell whether the event was stored; a
correct one publishes again with the same message id and the broker's dedup window drops
the copy (its PubAck says ``duplicate``). One that retries without the id stores the
event twice."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import register
from fracas.harness.faults.message import EVENT, ORDER_ID, TIMES, MessageFault


@register
class MessageLostPuback(MessageFault):
    kind = "message_lost_puback"
    summary = "drop the broker's PubAck to a publish of an event, so the publisher retries"
    toxic_type = "nats_lose_puback"
    streams = ("upstream", "downstream")
    params_spec = (EVENT, ORDER_ID, TIMES)

    def attributes(self) -> dict[str, Any]:
        return {**super().attributes(), "times": self.params["times"]}
