"""A publisher SIGKILLed at its publish of one event: the event never reaches the
broker, and the process dies at that instant. The window is the one between a state
change and its event, the classic defect of an event-driven saga: a publisher that
wrote the event to an outbox in the state change's transaction sends it after the
restart; one that publishes from memory after the commit loses it for good. The
publisher is a participant (``participant:NAME``) or, in a hybrid, the orchestrator.
Heal starts it again."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import register
from fracas.harness.faults.context import FaultContext
from fracas.harness.faults.message import EVENT, ORDER_ID, MessageFault, ProcessMessageFault
from fracas.harness.faults.process import kill_by_fault, process_of

#: The publisher of a hybrid's events (the search aims there: search/messages.py).
ORCHESTRATOR = "orchestrator"


@register
class MessagePublishCrash(ProcessMessageFault):
    kind = "message_publish_crash"
    kills = True
    summary = "SIGKILL the process that publishes an event, at its publish: the event is lost"
    toxic_type = "nats_lose_publish"
    streams = ("upstream",)
    params_spec = (EVENT, ORDER_ID)

    @classmethod
    def target_problem(cls, target: str) -> str | None:
        if target == ORCHESTRATOR or super().target_problem(target) is None:
            return None
        return (f'a {cls.kind} fault acts on the event\'s publisher: set target to '
                f'"participant:NAME" or, in a hybrid, "{ORCHESTRATOR}"')  # fmt: skip

    def attributes(self) -> dict[str, Any]:
        return MessageFault.attributes(self)  # any connection's publish: no consumer

    def act(self, ctx: FaultContext) -> None:
        kill_by_fault(process_of(self, ctx))
