"""The one small interface every toxic implements, and the stub it talks through.

Shaped like Toxiproxy's ``toxics.Toxic`` and ``ToxicStub``: a toxic is a coroutine
that pulls chunks from its stub and pushes them on. The toxic never sees the chain it
sits in, so the proxy can rewire a live chain (add, update, remove) underneath it. The
stub records what the toxic is holding at every await, which is what lets the proxy
cancel a toxic at any point and still pass every byte on, in order.

Adding a toxic: write one module in this package with a dataclass subclass of
``Toxic`` decorated with ``@register``; the package imports every module it holds.
``pipe`` is the one method to write; ``new_state`` and ``removed`` are for a toxic that
keeps state across updates or outside its connections.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, TypeVar


class Chunk:
    """Bytes read from one socket, stamped with the loop time they were read at."""

    __slots__ = ("data", "ts")

    def __init__(self, data: bytes, ts: float) -> None:
        self.data = data
        self.ts = ts


Item = Chunk | None
"""What flows between toxics: a chunk, or None for end of stream."""


class LinkHooks(Protocol):
    """What a stub may ask of the connection direction it belongs to."""

    def dropped(self, nbytes: int) -> None: ...

    def reset(self) -> None: ...


class Stub:
    """A toxic's view of its place in one direction of one connection.

    ``held`` is the item the toxic has taken from ``input`` and not yet passed on
    (``holding`` tells None-for-EOF apart from nothing). Toxics keep it true at every
    await; the proxy relies on it when it interrupts them.
    """

    __slots__ = ("input", "output", "rng", "state", "held", "holding", "hooks", "loop", "doomed")

    def __init__(
        self,
        input: asyncio.Queue[Item],
        output: asyncio.Queue[Item],
        rng: random.Random,
        hooks: LinkHooks,
        state: Any = None,
    ) -> None:
        self.input = input
        self.output = output
        self.rng = rng
        self.hooks = hooks
        self.state = state
        self.held: Item = None
        self.holding = False
        self.loop = asyncio.get_running_loop()
        #: The toxic took data out of the stream and will end the connection: removed
        #: or changed meanwhile, the proxy resets it rather than let the bytes after
        #: the gap through (``Pipeline.remove``).
        self.doomed = False

    async def recv(self) -> Item:
        item = await self.input.get()
        self.held = item
        self.holding = True
        return item

    def send(self, chunk: Chunk) -> None:
        self.held = None
        self.holding = False
        self.output.put_nowait(chunk)

    def hold(self, item: Item) -> None:
        """Declare what is still held after passing part of a chunk on."""
        self.held = item
        self.holding = True

    def drop(self, chunk: Chunk) -> None:
        self.held = None
        self.holding = False
        self.hooks.dropped(len(chunk.data))

    def discard(self, nbytes: int) -> None:
        """Account for part of a held chunk thrown away (the rest is still held)."""
        self.hooks.dropped(nbytes)

    def close(self) -> None:
        """End the stream here: everything after this toxic sees EOF, then the
        connection closes."""
        self.held = None
        self.holding = False
        self.output.put_nowait(None)

    def reset(self) -> None:
        """Reset (RST) the whole connection."""
        self.hooks.reset()

    def now(self) -> float:
        return self.loop.time()


class Toxic:
    """Base of every toxic type. Subclasses are dataclasses whose fields are the
    toxic's attributes: integers, as in Toxiproxy, where they are int64; fracas's own
    NATS-aware toxics also take strings (an event name, an order id), which no
    standard toxic has."""

    type_name: ClassVar[str] = ""
    close_on_remove: ClassVar[bool] = False
    """Removing the toxic closes the connections it was active on (``timeout``)."""

    @classmethod
    def attribute_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def string_attributes(cls) -> frozenset[str]:
        """The attributes that are strings (none for Toxiproxy's own types)."""
        return frozenset(
            f.name for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.type in ("str", str)
        )

    def attributes(self) -> dict[str, int | str]:
        text = self.string_attributes()
        return {
            name: str(getattr(self, name)) if name in text else int(getattr(self, name))
            for name in self.attribute_names()
        }

    def validate(self) -> str | None:
        """fracas's checks on values the real server crashes or hangs on; the text
        goes after ``bad request body: ``."""
        return None

    def new_state(self) -> Any:
        """Per-connection state kept across updates of this toxic (``limit_data``)."""
        return None

    async def pipe(self, stub: Stub) -> None:
        raise NotImplementedError

    def removed(self, remaining: Sequence[Toxic]) -> None:
        """Called once the toxic is off its proxy, with the toxics still on it: a toxic
        that keeps state outside its connections lets go of it here."""


REGISTRY: dict[str, type[Toxic]] = {}

T = TypeVar("T", bound=type[Toxic])


def register(cls: T) -> T:
    if not cls.type_name:
        raise TypeError(f"{cls.__name__} has no type_name")
    REGISTRY[cls.type_name] = cls
    return cls


async def pass_through(stub: Stub) -> None:
    """The noop pipe: also what a toxic runs as when its toxicity roll says no."""
    while True:
        item = await stub.recv()
        if item is None:
            stub.close()
            return
        stub.send(item)
