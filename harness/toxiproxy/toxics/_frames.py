"""The base of fracas's NATS-aware toxics: a toxic that decides frame by frame.

Kept out of ``natswire`` (which knows the protocol and nothing of toxics) so the toxics
package can import it while it loads its modules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from fracas.harness.toxiproxy.natswire import BadFrame, Frame, Framer, forget
from fracas.harness.toxiproxy.toxics.base import Chunk, Stub, Toxic

#: Seconds between looks at a hold that waits on something another connection sees.
POLL = 0.05


class Held:
    """A frame held back, until ``due`` (loop time) or until ``release_ready`` says so."""

    __slots__ = ("frame", "due")

    def __init__(self, frame: Frame, due: float) -> None:
        self.frame = frame
        self.due = due


class Conn:
    """One connection's state in one toxic: what it holds, and whether its gate is shut
    (``nats_lose_ack`` after an ack it let through)."""

    __slots__ = ("held", "gate")

    def __init__(self) -> None:
        self.held: list[Held] = []
        self.gate = False


class FrameToxic(Toxic):
    """A toxic that decides frame by frame. Subclasses define ``on_frame``; it passes the
    frame on (``stub.send``), drops it (``drop``) or holds it (``hold``).

    Everything held (frames and a partial frame) is declared on the stub at every await,
    so the proxy can remove the toxic at any moment and lose no byte."""

    def new_state(self) -> Conn:
        return Conn()

    def on_frame(self, frame: Frame, stub: Stub, conn: Conn) -> None:
        raise NotImplementedError

    def release_ready(self, held: Held, now: float) -> bool:
        """Whether a held frame may go now; by default when its time has come."""
        return now >= held.due

    # -- the pipe --------------------------------------------------------------------
    async def pipe(self, stub: Stub) -> None:
        conn: Conn = stub.state
        conn.held = []  # a restarted stage: the proxy let go of what it held before
        framer = Framer()
        broken = False
        while True:
            _declare(stub, conn, framer)
            try:
                async with asyncio.timeout(_wake_in(stub, conn)):
                    item = await stub.input.get()
            except TimeoutError:
                self._release(stub, conn)
                continue
            if item is None:
                self._release(stub, conn, everything=True)
                rest = framer.pending()
                if rest:
                    stub.send(Chunk(rest, stub.now()))
                stub.close()
                return
            if broken:
                stub.send(item)
                continue
            try:
                for frame in framer.feed(item.data):
                    self.on_frame(frame, stub, conn)
            except BadFrame:
                broken = True
                rest = framer.pending()
                framer = Framer()
                if rest:
                    stub.send(Chunk(rest, item.ts))
            self._release(stub, conn)

    @staticmethod
    def hold(frame: Frame, conn: Conn, due: float) -> None:
        conn.held.append(Held(frame, due))

    @staticmethod
    def drop(frame: Frame, stub: Stub) -> None:
        stub.discard(len(frame.raw))

    @staticmethod
    def send(frame: Frame, stub: Stub) -> None:
        stub.send(Chunk(frame.raw, stub.now()))

    def _release(self, stub: Stub, conn: Conn, everything: bool = False) -> None:
        if not conn.held:
            return
        now = stub.now()
        keep: list[Held] = []
        for held in conn.held:
            if everything or self.release_ready(held, now):
                stub.send(Chunk(held.frame.raw, now))
            else:
                keep.append(held)
        conn.held = keep


def _wake_in(stub: Stub, conn: Conn) -> float | None:
    if not conn.held:
        return None
    soonest = min(h.due for h in conn.held)
    return max(0.0, min(soonest - stub.now(), POLL))


def _declare(stub: Stub, conn: Conn, framer: Framer) -> None:
    data = b"".join(h.frame.raw for h in conn.held) + framer.pending()
    if data:
        stub.hold(Chunk(data, stub.now()))
    else:
        stub.held, stub.holding = None, False


@dataclass
class KeyedToxic(FrameToxic):
    """A frame toxic aimed at one event (optionally one order's) whose two directions
    share what they saw under ``key`` (``natswire.sighting``); ``fired`` counts what it
    acted on, which the harness reads (faults/message.py)."""

    event: str = ""
    order_id: str = ""
    key: str = ""
    fired: int = 0

    def validate(self) -> str | None:
        if not self.event or not self.key:
            return "event and key are required"
        return None

    def removed(self, remaining: Sequence[Toxic]) -> None:
        """Each application of a fault has a key of its own, so what the last of its
        toxics saw is of no further use: kept, it grew by one entry per application
        for the life of the proxy."""
        if not any(getattr(t, "key", None) == self.key for t in remaining):
            forget(self.key)
