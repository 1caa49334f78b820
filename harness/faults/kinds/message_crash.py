"""A participant crashes around its ack of one event, and JetStream's redelivery is all
that brings the event back. ``before_ack``: its ack is lost on the wire and it is
SIGKILLed the moment it sent it, so its work is done and the broker never heard: the
restarted participant gets the event again. ``after_ack``: the ack reaches the broker,
every saga publish it sends after that is lost, and it is SIGKILLed: what it had not
published before acking (outside its outbox) is gone. Heal starts it again."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.context import FaultContext
from fracas.harness.faults.message import EVENT, ORDER_ID, ProcessMessageFault
from fracas.harness.faults.process import kill_by_fault, process_of

MOMENTS = ("before_ack", "after_ack")


@register
class MessageCrash(ProcessMessageFault):
    kind = "message_crash"
    kills = True
    summary = "SIGKILL a participant as it acks an event: before the ack reaches the broker, or after"
    toxic_type = "nats_lose_ack"
    streams = ("downstream", "upstream")
    params_spec = (
        EVENT, ORDER_ID,
        Param("moment", "str", "before_ack: its ack is lost and it dies; after_ack: the ack "
              "lands, what it publishes after is lost, and it dies",
              default="before_ack", choices=MOMENTS),
    )  # fmt: skip

    def attributes(self) -> dict[str, Any]:
        return {**super().attributes(), "after_ack": int(self.params["moment"] == "after_ack")}

    def act(self, ctx: FaultContext) -> None:
        kill_by_fault(process_of(self, ctx))
