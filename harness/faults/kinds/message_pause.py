"""A participant paused past the ack wait, holding an event: its delivery is held in the
fault proxy for a moment, the participant is SIGSTOPped as it arrives, and resumed
``seconds`` later. Its heartbeats stop with it, so the broker's ack wait runs out while
the event is unacked; JetStream then gives the event to the next pull request of that
consumer. Heal resumes it."""

from __future__ import annotations

import threading
from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.context import FaultContext
from fracas.harness.faults.message import EVENT, ORDER_ID, ProcessMessageFault
from fracas.harness.faults.process import process_of

#: ms the delivery waits in the proxy, so the participant is stopped before it reads it.
HOLD_MS = 1000


@register
class MessagePause(ProcessMessageFault):
    kind = "message_pause"
    summary = "SIGSTOP a participant as an event reaches it, for longer than the ack wait"
    toxic_type = "nats_hold"
    params_spec = (
        EVENT, ORDER_ID,
        Param("seconds", "float", "how long it stays stopped: longer than the choreography's "
              "ack wait (2 s by default) for the broker to give up on the delivery",
              default=5.0, minimum=0.1, maximum=600.0),
    )  # fmt: skip

    def attributes(self) -> dict[str, Any]:
        return {**super().attributes(), "delay": HOLD_MS, "times": 1}

    def act(self, ctx: FaultContext) -> None:
        proc = process_of(self, ctx)
        proc.pause()
        resume = threading.Timer(float(self.params["seconds"]), proc.resume)
        resume.daemon = True
        resume.start()
