"""``nats_lose_puback``: the broker stores a publish, and its answer is lost.

On the upstream stream it notes the reply inbox of each publish it is aimed at (a
publish sent again too); on the downstream stream it drops the first ``times`` PubAcks
to them.
The publisher cannot tell whether the event was stored: it must publish again with the
same message id, and the broker's dedup window drops the copy (its PubAck then says
``duplicate``). ``fired`` counts the PubAcks it dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from fracas.harness.toxiproxy.natswire import Aim, Frame, sighting
from fracas.harness.toxiproxy.toxics._frames import Conn, KeyedToxic
from fracas.harness.toxiproxy.toxics.base import Stub, register


@register
@dataclass
class NatsLosePubackToxic(KeyedToxic):
    type_name = "nats_lose_puback"
    times: int = 1

    def on_frame(self, frame: Frame, stub: Stub, conn: Conn) -> None:
        seen = sighting(self.key)
        if Aim(self.event, self.order_id).publish(frame):  # (never a delivery)
            seen.note(frame.reply)
        elif frame.op in ("MSG", "HMSG") and seen.answers(frame.subject, self.times):
            self.fired += 1
            self.drop(frame, stub)
            return
        self.send(frame, stub)
