"""``nats_lose_publish``: a publisher's event never reaches the broker, and nothing it
sends after does.

On the upstream stream it drops the first publish it is aimed at and shuts the gate of
that connection: every publish after it (its acks included, which are publishes to
``$JS.ACK``) is dropped too, as if the process had died at that instant, which the
harness then makes true (``message_publish_crash`` SIGKILLs it once ``fired`` counts
1). What the publisher had not kept to send again, an event published from memory
outside its state change, is gone; one it kept in an outbox goes out after the restart.
Pings and subscriptions pass, so a connection the harness does not kill stays usable.
"""

from __future__ import annotations

from dataclasses import dataclass

from fracas.harness.toxiproxy.natswire import Aim, Frame
from fracas.harness.toxiproxy.toxics._frames import Conn, KeyedToxic
from fracas.harness.toxiproxy.toxics.base import Stub, register


@register
@dataclass
class NatsLosePublishToxic(KeyedToxic):
    type_name = "nats_lose_publish"

    def on_frame(self, frame: Frame, stub: Stub, conn: Conn) -> None:
        if conn.gate and frame.op in ("PUB", "HPUB"):
            self.drop(frame, stub)
            return
        if not self.fired and Aim(self.event, self.order_id).publish(frame):
            self.fired += 1
            conn.gate = True
            self.drop(frame, stub)
            return
        self.send(frame, stub)
