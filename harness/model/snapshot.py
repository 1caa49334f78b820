"""What the checkers judge: everything known once the run has quiesced, as plain data.

Kept separate from the live topology so a failing run can be re-checked from a replay
file or a hand-built fixture with no process running.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fracas.harness.model.history import History

JSON = dict[str, Any]


@dataclass
class Settle:
    """Timing facts for the liveness rule.

    ``settle_seconds`` None disables the timing half of liveness (every order must still end
    terminal). ``last_heal_t`` and ``terminal_t`` default to what the history says.
    """

    settle_seconds: float | None = None
    last_heal_t: float | None = None
    terminal_t: dict[str, float] = field(default_factory=dict)
    submitted_t: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> JSON:
        return {
            "settle_seconds": self.settle_seconds,
            "last_heal_t": self.last_heal_t,
            "terminal_t": self.terminal_t,
            "submitted_t": self.submitted_t,
        }

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> Settle:
        return Settle(
            settle_seconds=raw.get("settle_seconds"),
            last_heal_t=raw.get("last_heal_t"),
            terminal_t={str(k): float(v) for k, v in (raw.get("terminal_t") or {}).items()},
            submitted_t={str(k): float(v) for k, v in (raw.get("submitted_t") or {}).items()},
        )


@dataclass
class Snapshot:
    """``ledgers``: ``{service: GET /_fracas/state answer}`` (§6), at least ``{"tables": ...}``.
    ``orders``: ``{order_id: the order JSON as submitted}``.
    ``reported``: ``{order_id: GET /orders/{id} answer}``; a missing key or None means 404.
    ``journals``: ``{service: entries}``; when empty, the history's attached journals are used.
    ``intents``: ``{order_id: intent name}`` (``fracas.fakes.contract.INTENTS``), what the
    workload meant each order to be. No rule judges by it (the ledgers and the reported
    status decide); a witness states the expected outcome from it.
    """

    ledgers: dict[str, JSON]
    orders: dict[str, JSON]
    reported: dict[str, JSON | None] = field(default_factory=dict)
    history: History | None = None
    settle: Settle = field(default_factory=Settle)
    journals: dict[str, list[JSON]] = field(default_factory=dict)
    intents: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.journals and self.history is not None:
            self.journals = self.history.journals

    def table(self, service: str, name: str) -> list[JSON]:
        ledger = self.ledgers.get(service) or {}
        rows = (ledger.get("tables") or {}).get(name)
        return list(rows) if rows is not None else []

    def to_json(self) -> JSON:
        return {
            "ledgers": self.ledgers,
            "orders": self.orders,
            "reported": self.reported,
            "history": self.history.to_json() if self.history is not None else None,
            "settle": self.settle.to_json(),
            "journals": self.journals
            if self.history is None or self.journals is not self.history.journals
            else None,
            "intents": self.intents,
        }

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> Snapshot:
        hist = History.from_json(raw["history"]) if raw.get("history") else None
        return Snapshot(
            ledgers=dict(raw["ledgers"]),
            orders=dict(raw["orders"]),
            reported=dict(raw.get("reported") or {}),
            history=hist,
            settle=Settle.from_json(raw.get("settle") or {}),
            journals={k: list(v) for k, v in (raw.get("journals") or {}).items()},
            intents={str(k): str(v) for k, v in (raw.get("intents") or {}).items()},
        )
