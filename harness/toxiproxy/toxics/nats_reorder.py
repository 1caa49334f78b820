"""``nats_reorder``: two events of one order reach a participant in the wrong order.

It holds the first delivery of ``event`` it is aimed at until a delivery of
``then_event`` for the same order has passed (on any connection of the proxy), then
lets it go right after: the participant sees the later event first. ``max_hold`` ms
bounds the wait, for a ``then_event`` that never comes (one caused by the held event
itself). ``fired`` counts the deliveries it held.
"""

from __future__ import annotations

from dataclasses import dataclass

from fracas.harness.toxiproxy.natswire import Aim, Frame, sighting
from fracas.harness.toxiproxy.toxics._frames import Conn, FrameToxic, Held
from fracas.harness.toxiproxy.toxics.base import Stub, register


@register
@dataclass
class NatsReorderToxic(FrameToxic):
    type_name = "nats_reorder"
    event: str = ""
    then_event: str = ""
    order_id: str = ""
    consumer: str = ""
    key: str = ""
    max_hold: int = 10000
    fired: int = 0

    def validate(self) -> str | None:
        if not self.event or not self.then_event or not self.key:
            return "event, then_event and key are required"
        if self.max_hold < 0:
            return "max_hold must be >= 0"
        return None

    def on_frame(self, frame: Frame, stub: Stub, conn: Conn) -> None:
        aim = Aim(self.event, self.order_id, self.consumer)
        seen = sighting(self.key)
        if self.fired < 1 and aim.delivery(frame):
            self.fired += 1
            seen.order = frame.order_id
            self.hold(frame, conn, stub.now() + self.max_hold / 1000.0)
            return
        self.send(frame, stub)
        if self.fired and aim.delivery(frame, self.then_event) and frame.order_id == seen.order:
            seen.passed = True

    def release_ready(self, held: Held, now: float) -> bool:
        return sighting(self.key).passed or now >= held.due
