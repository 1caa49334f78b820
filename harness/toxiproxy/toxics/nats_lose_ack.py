"""``nats_lose_ack``: a participant's ack of one delivery never reaches the broker.

On the downstream stream it notes the ack subject of each delivery it is aimed at (a
redelivery too); on the upstream stream it drops the first ``times`` acks to them, so
JetStream, which heard nothing, delivers the event again once the ack wait is over: a
duplicate made by the broker itself. Heartbeats (``+WPI``) and naks pass.

``after_ack`` = 1 turns it into the window *after* an ack: the ack passes, and every
saga publish that connection sends after it is dropped (a crash in between would have
lost them). ``fired`` counts the acks it acted on; the harness reads it to crash or
pause the participant at that moment (``faults/message.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from fracas.harness.toxiproxy.natswire import ACK_BODIES, Aim, Frame, sighting
from fracas.harness.toxiproxy.toxics._frames import Conn, KeyedToxic
from fracas.harness.toxiproxy.toxics.base import Stub, register


@register
@dataclass
class NatsLoseAckToxic(KeyedToxic):
    type_name = "nats_lose_ack"
    consumer: str = ""
    times: int = 1
    after_ack: int = 0

    def on_frame(self, frame: Frame, stub: Stub, conn: Conn) -> None:
        seen = sighting(self.key)
        aim = Aim(self.event, self.order_id, self.consumer)
        if aim.delivery(frame):  # (a delivery is never an ack: the branches are apart)
            seen.note(frame.reply)
        elif (frame.op == "PUB" and frame.payload in ACK_BODIES
              and seen.answers(frame.subject, self.times)):  # fmt: skip
            self.fired += 1
            if not self.after_ack:
                self.drop(frame, stub)
                return
            conn.gate = True
        elif conn.gate and frame.is_publish:
            self.drop(frame, stub)
            return
        self.send(frame, stub)
