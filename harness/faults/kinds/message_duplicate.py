"""An event delivered twice: the participant's ack of it is lost on the way to the
broker, so JetStream delivers it again once the ack wait is over. The participant did
its work the first time; a correct one recognises the copy (its dedup table, the fakes'
idempotency keys) and acks it; one without dedup acts twice."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import register
from fracas.harness.faults.message import CONSUMER, EVENT, ORDER_ID, TIMES, MessageFault


@register
class MessageDuplicate(MessageFault):
    kind = "message_duplicate"
    summary = "lose the ack of an event's delivery, so JetStream delivers it again after the ack wait"
    toxic_type = "nats_lose_ack"
    streams = ("downstream", "upstream")
    params_spec = (EVENT, ORDER_ID, CONSUMER, TIMES)

    def attributes(self) -> dict[str, Any]:
        return {**super().attributes(), "consumer": self.params.get("consumer") or "",
                "times": self.params["times"]}  # fmt: skip
