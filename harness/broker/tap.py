"""What the broker moved for the saga, read off the wire: the history's messages.

The harness's link subscribes to every subject. JetStream delivers an event to a
consumer with a reply subject that carries its accounting
(``$JS.ACK.<stream>.<consumer>.<delivery count>.<stream seq>...``), and a participant
acks by publishing to that subject, so one subscription sees each publish, each
delivery and redelivery, and each ack, with the broker's own counts. Nothing here asks
a participant anything: a participant that lies about its acks cannot hide them.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from fracas.fakes.events import CORRELATION_HEADER, MSG_ID_HEADER, event_of

ACK_PREFIX = "$JS.ACK."
#: What a participant's reply to a delivery means (nats-py sends an empty body for +ACK).
REPLIES = {b"": "acked", b"+ACK": "acked", b"-NAK": "nacked", b"+WPI": "working",
           b"+TERM": "terminated"}  # fmt: skip


def ack_fields(reply: str) -> dict[str, Any] | None:
    """Stream, consumer, delivery count and stream sequence of an ack subject (the
    server's two layouts: 9 tokens, or 12 with domain and account hash)."""
    tokens = reply.split(".")
    if len(tokens) >= 12:
        tokens = tokens[:2] + tokens[4:]
    if len(tokens) < 9:
        return None
    return {"stream": tokens[2], "consumer": tokens[3], "delivery": int(tokens[4]),
            "stream_seq": int(tokens[5])}  # fmt: skip


class Tap:
    """Collects entries ``{t, kind, event, order_id, ...}`` until ``take``."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._by_seq: dict[int, dict[str, Any]] = {}  # stream seq -> event, order
        self._by_inbox: dict[str, dict[str, Any]] = {}  # a publish, until its ack

    def clear(self) -> None:
        with self._lock:
            self._entries, self._by_seq, self._by_inbox = [], {}, {}

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def __call__(self, msg: Any) -> None:
        subject, reply = str(msg.subject), str(msg.reply or "")
        with self._lock:
            if subject.startswith(ACK_PREFIX):
                self._reply(subject, bytes(msg.data))
            elif reply.startswith(ACK_PREFIX):
                self._delivery(subject, reply, msg.headers or {})
            elif event_of(subject) is not None:
                self._publish(subject, reply, msg.headers or {})
            elif subject in self._by_inbox:
                self._stored(self._by_inbox.pop(subject), bytes(msg.data))

    def _add(self, **entry: Any) -> dict[str, Any]:
        entry = {"t": time.time(), **entry}
        self._entries.append(entry)
        return entry

    def _publish(self, subject: str, reply: str, headers: dict[str, str]) -> None:
        entry = self._add(kind="published", event=event_of(subject),
                          order_id=headers.get(CORRELATION_HEADER),
                          msg_id=headers.get(MSG_ID_HEADER))  # fmt: skip
        if reply:
            self._by_inbox[reply] = entry

    def _stored(self, entry: dict[str, Any], data: bytes) -> None:
        try:
            ack = json.loads(data)
        except ValueError:
            return
        if isinstance(ack, dict) and ack.get("stream") == self.stream:
            entry.update(stream_seq=ack.get("seq"), duplicate=bool(ack.get("duplicate")))

    def _delivery(self, subject: str, reply: str, headers: dict[str, str]) -> None:
        fields = ack_fields(reply)
        if fields is None or fields["stream"] != self.stream:
            return
        known = {"event": event_of(subject), "order_id": headers.get(CORRELATION_HEADER)}
        self._by_seq[fields["stream_seq"]] = known
        kind = "delivered" if fields["delivery"] == 1 else "redelivered"
        self._add(kind=kind, msg_id=headers.get(MSG_ID_HEADER), **known,
                  consumer=fields["consumer"], delivery=fields["delivery"],
                  stream_seq=fields["stream_seq"])  # fmt: skip

    def _reply(self, subject: str, data: bytes) -> None:
        fields = ack_fields(subject)
        if fields is None or fields["stream"] != self.stream:
            return
        known = self._by_seq.get(fields["stream_seq"], {"event": None, "order_id": None})
        self._add(kind=REPLIES.get(data[:5].strip(), "replied"), **known,
                  consumer=fields["consumer"], delivery=fields["delivery"],
                  stream_seq=fields["stream_seq"])  # fmt: skip
