"""What the harness creates in the broker: one stream, one durable consumer per participant.

The settings decide which faults happen for real: a participant paused past ``ack_wait``
gets its event again, one that never acks gives up after ``max_deliver`` deliveries, and
a publish retried with the same message id within ``dedup_window`` is stored once. The
server's own defaults (30 s ack wait) are too long for a test run, so the defaults here
are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_ACK_WAIT = 2.0
DEFAULT_MAX_DELIVER = 20
DEFAULT_DEDUP_WINDOW = 120.0


@dataclass(frozen=True)
class ConsumerSettings:
    """A durable pull consumer named after its participant, filtered to what it consumes."""

    name: str
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class StreamSettings:
    stream: str
    subjects: tuple[str, ...]
    ack_wait: float = DEFAULT_ACK_WAIT
    max_deliver: int = DEFAULT_MAX_DELIVER
    dedup_window: float = DEFAULT_DEDUP_WINDOW
    consumers: tuple[ConsumerSettings, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "subjects": list(self.subjects),
            "ack_wait": self.ack_wait,
            "max_deliver": self.max_deliver,
            "dedup_window": self.dedup_window,
            "consumers": [{"name": c.name, "subjects": list(c.subjects)} for c in self.consumers],
        }
