"""``nats_hold``: one delivery reaches its participant ``delay`` ms late.

The broker sent it on time (its ack wait runs from then), and the rest of the
connection flows meanwhile: later deliveries, heartbeats and acks overtake it. A delay
past the ack wait makes JetStream deliver the event again while the first copy is
still on its way. ``fired`` counts the deliveries it held.
"""

from __future__ import annotations

from dataclasses import dataclass

from fracas.harness.toxiproxy.natswire import Aim, Frame
from fracas.harness.toxiproxy.toxics._frames import Conn, FrameToxic
from fracas.harness.toxiproxy.toxics.base import Stub, register


@register
@dataclass
class NatsHoldToxic(FrameToxic):
    type_name = "nats_hold"
    event: str = ""
    order_id: str = ""
    consumer: str = ""
    delay: int = 0
    times: int = 1
    fired: int = 0

    def validate(self) -> str | None:
        if not self.event:
            return "event is required"
        if self.delay < 0:
            return "delay must be >= 0"
        return None

    def on_frame(self, frame: Frame, stub: Stub, conn: Conn) -> None:
        if self.fired < self.times and Aim(self.event, self.order_id, self.consumer).delivery(frame):
            self.fired += 1
            self.hold(frame, conn, stub.now() + self.delay / 1000.0)
            return
        self.send(frame, stub)
