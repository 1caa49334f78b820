"""The NATS client protocol, framed: what fracas's NATS-aware toxics read.

Toxiproxy's toxics move bytes and know no protocol, so none of them can lose *the ack
of one event*, or hold back *one delivery* while the rest of the connection flows. The
toxics built on ``FrameToxic`` cut the byte stream into the protocol's frames (MSG and
HMSG deliveries from the broker, PUB and HPUB publishes from the client, and the one-line
control frames), look at each one's subject, reply subject and headers, and pass, drop
or hold whole frames. A frame is never cut or changed, so both ends still parse the
stream. Anything that does not parse (a slicer ahead in the chain, a protocol this is
not) is passed on untouched from there on: a toxic that cannot read must not break.

Only the embedded proxy has these toxics; a real Toxiproxy answers "invalid toxic type".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

SUBJECT_PREFIX = "fracas.saga."  # fracas.fakes.events: the saga's subjects
CORRELATION_HEADER = "x-correlation-id"
ACK_PREFIX = "$JS.ACK."
#: What a client's reply to a delivery says when it acks it (nats-py sends no body).
ACK_BODIES = (b"", b"+ACK")
_WITH_BODY = {"MSG": 3, "HMSG": 4, "PUB": 2, "HPUB": 3}  # tokens after the op, reply omitted


@dataclass
class Frame:
    """One protocol frame; ``raw`` is exactly the bytes read, to be passed on as they are."""

    raw: bytes
    op: str
    subject: str = ""
    reply: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""

    @property
    def event(self) -> str | None:
        return self.subject.removeprefix(SUBJECT_PREFIX) if self.subject.startswith(
            SUBJECT_PREFIX) else None  # fmt: skip

    @property
    def order_id(self) -> str | None:
        """The correlation header, else the payload's ``order_id`` (the contract puts it in both)."""
        found = self.headers.get(CORRELATION_HEADER)
        if found:
            return found
        try:
            body = json.loads(self.payload)
        except ValueError:
            return None
        value = body.get("order_id") if isinstance(body, dict) else None
        return value if isinstance(value, str) else None

    @property
    def consumer(self) -> str | None:
        """The JetStream consumer a delivery is for, from its ack subject
        (``$JS.ACK.<stream>.<consumer>...``, or with domain and account hash first)."""
        if not self.reply.startswith(ACK_PREFIX):
            return None
        tokens = self.reply.split(".")
        if len(tokens) >= 12:
            tokens = tokens[:2] + tokens[4:]
        return tokens[3] if len(tokens) >= 9 else None

    @property
    def is_delivery(self) -> bool:
        return self.op in ("MSG", "HMSG") and self.consumer is not None

    @property
    def is_publish(self) -> bool:
        return self.op in ("PUB", "HPUB") and self.event is not None


class BadFrame(ValueError):
    """Bytes that are not the NATS protocol."""


def _headers(block: bytes) -> dict[str, str]:
    lines = block.decode("utf-8", "replace").split("\r\n")[1:]  # after NATS/1.0
    out: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


class Framer:
    """Accumulates bytes and hands out whole frames; ``pending`` is what is not one yet."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def pending(self) -> bytes:
        return bytes(self._buf)

    def feed(self, data: bytes) -> Iterator[Frame]:
        self._buf += data
        while True:
            frame = self._next()
            if frame is None:
                return
            yield frame

    def _next(self) -> Frame | None:
        end = self._buf.find(b"\r\n")
        if end < 0:
            if len(self._buf) > 1 << 16:
                raise BadFrame("a control line longer than 64 KiB")
            return None
        line = self._buf[:end].decode("utf-8", "replace")
        tokens = line.split()
        op = tokens[0].upper() if tokens else ""
        if op not in _WITH_BODY:
            raw = bytes(self._buf[: end + 2])
            del self._buf[: end + 2]
            return Frame(raw, op)
        args = tokens[1:]
        want = _WITH_BODY[op]
        if len(args) not in (want, want + 1):
            raise BadFrame(f"a {op} line with {len(args)} fields: {line[:120]!r}")
        has_reply = len(args) == want + 1
        subject = args[0]
        reply = args[2 if op in ("MSG", "HMSG") else 1] if has_reply else ""
        try:
            total = int(args[-1])
            head = int(args[-2]) if op in ("HMSG", "HPUB") else 0
        except ValueError:
            raise BadFrame(f"a {op} line without sizes: {line[:120]!r}") from None
        size = end + 2 + total + 2
        if len(self._buf) < size:
            return None
        body = bytes(self._buf[end + 2 : end + 2 + total])
        raw = bytes(self._buf[:size])
        del self._buf[:size]
        headers = _headers(body[:head]) if head else {}
        return Frame(raw, op, subject, reply, headers, body[head:])


@dataclass
class Aim:
    """Which frames a message fault is about: an event, optionally one order's, optionally
    its delivery to one consumer."""

    event: str
    order_id: str = ""
    consumer: str = ""

    def delivery(self, frame: Frame, event: str | None = None) -> bool:
        return (frame.is_delivery and frame.event == (event or self.event)
                and (not self.consumer or frame.consumer == self.consumer)
                and (not self.order_id or frame.order_id == self.order_id))  # fmt: skip

    def publish(self, frame: Frame) -> bool:
        return (frame.is_publish and frame.event == self.event and bool(frame.reply)
                and (not self.order_id or frame.order_id == self.order_id))  # fmt: skip


@dataclass
class Sighting:
    """What one fault's toxics saw, shared by its toxics on both directions and every
    connection (they run on one event loop): the reply subjects to act on, and marks."""

    subjects: set[str] = field(default_factory=set)
    #: How many answers it acted on.
    acted: int = 0
    #: ``nats_reorder``: the order of the delivery it holds, and whether the later
    #: event of that order has passed.
    order: str | None = None
    passed: bool = False

    def note(self, reply: str) -> None:
        """Keep the reply subject of an aimed frame: of every one, since a redelivery (or
        a publish sent again) has a subject of its own and may be answered first. Kept
        for the first only, a participant still busy with the first delivery when the
        ack wait ran out acked the second, and a crash aimed at its ack never fired."""
        self.subjects.add(reply)

    def answers(self, subject: str, times: int) -> bool:
        """Whether a frame on ``subject`` answers a kept one, while fewer than ``times``
        answers were acted on (it then uses the subject up, and counts one)."""
        if subject not in self.subjects or self.acted >= times:
            return False
        self.subjects.discard(subject)
        self.acted += 1
        return True


#: By the ``key`` attribute the fault gives each of its toxics (its id).
SIGHTINGS: dict[str, Sighting] = {}


def sighting(key: str) -> Sighting:
    return SIGHTINGS.setdefault(key, Sighting())


def forget(key: str) -> None:
    """Drop what the toxics of ``key`` saw (its last toxic left the proxy)."""
    SIGHTINGS.pop(key, None)
