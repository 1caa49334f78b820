"""One order's saga as the engine holds it between steps, and the names it steps through.

Kept apart from the engine because every part of it (the forward steps, compensation,
the transitions) reads the same record and the same step names, and none of them should
have to import the engine to get them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fracas.orchestrator.store import Event, OrderRow

COMPENSATION_STEPS = ("comp:cancel", "comp:release", "comp:refund", "comp:notify")
# Forward steps whose call makes an effect that compensation may have to undo.
EFFECT_STEPS = ("capture", "reserve", "ship")


def idempotency_key(order_id: str, purpose: str) -> str:
    """Same key for every attempt of one purpose of one order, across restarts."""
    return f"{order_id}:{purpose}"


@dataclass
class Saga:
    order_id: str
    order: dict[str, Any]
    status: str
    step: str
    reason: str | None
    ctx: dict[str, Any]
    review_deadline: float | None
    events: list[Event] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: OrderRow) -> Saga:
        return cls(
            row.order_id, row.order, row.status, row.step, row.reason, row.ctx,
            row.review_deadline,
        )  # fmt: skip

    @property
    def intents(self) -> list[str]:
        return list(self.ctx.setdefault("intents", []))
