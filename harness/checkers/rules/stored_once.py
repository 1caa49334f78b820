"""Stored once: in a choreography, the broker stores each event of an order once.

The contract gives every event of an order one message id, ``<order_id>:<event>``
(docs/contract.md §7), so each event is published once per order and the dedup window
drops any retry. An event stored twice means a publisher retried without its id, or
published the same event again under another id. Idempotent fakes may absorb the copy,
so no ledger rule sees it. The participants still act on both copies. This rule reads
the broker's own answers, which the harness's tap recorded off the wire
(harness/broker/tap.py).

An event counts as stored at a stream sequence when the broker's PubAck said stored (not
``duplicate``) or when the broker delivered the event from that sequence. A delivery
shows the event is in the stream even if the tap missed the PubAck. A run without a
broker has no messages, and the rule finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View
from fracas.harness.checkers.violation import Violation

JSON = dict[str, Any]
_DELIVERIES = frozenset({"delivered", "redelivered"})


def stored_at(messages: list[JSON]) -> dict[str, dict[int, JSON]]:
    """Per event, each stream sequence it was stored at, with the first record that
    says so (a stored PubAck is preferred: it tells who published without an id)."""
    out: dict[str, dict[int, JSON]] = {}
    for m in messages:
        event, seq, kind = m.get("event"), m.get("stream_seq"), m.get("kind")
        if event is None or not isinstance(seq, int):
            continue
        stored = kind == "published" and m.get("duplicate") is False
        if not stored and kind not in _DELIVERIES:
            continue
        seqs = out.setdefault(str(event), {})
        if seq not in seqs or (stored and seqs[seq].get("kind") != "published"):
            seqs[seq] = m
    return out


def _how(m: JSON) -> str:
    if m.get("kind") == "published":
        mid = m.get("msg_id")
        return f"seq {m.get('stream_seq')} " + (f"(msg id {mid})" if mid else "(no msg id)")
    return f"seq {m.get('stream_seq')} (seen delivered to {m.get('consumer')})"


@rule("event-stored-once")
def check(view: View) -> Iterator[Violation]:
    """In a choreography, each event of an order (one ``Nats-Msg-Id``,
    ``<order_id>:<event>``) is stored in the stream once. A second stored copy is a
    publish retried without its message id. The witness names both stream sequences."""
    for oid, messages in view.broker_by_order.items():
        if oid is None:
            continue
        for event, seqs in stored_at(messages).items():
            if len(seqs) < 2:
                continue
            ordered = sorted(seqs)
            yield Violation(
                "event-stored-once",
                str(oid),
                f"the broker stored {event} of order {oid} {len(ordered)} times, at "
                + ", ".join(_how(seqs[s]) for s in ordered),
                expected={"stored": 1},
                actual={"stored": len(ordered), "event": event, "stream_seqs": ordered},
                t=float(seqs[ordered[1]].get("t") or 0.0) or None,
            )
