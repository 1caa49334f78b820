"""A broken rule, with enough evidence attached that a person can see how it happened."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class Violation:
    """``ledger_rows`` are ``{"service", "table", "row"}``; ``journal_lines`` are journal
    entries; ``faults`` are fault windows as JSON (``fault_id, target, fault, applied_t,
    healed_t, label``). ``expected``/``actual`` feed the report's ledger diff. ``account`` is
    the plain-English story, filled by the witness builder. ``t`` is when it became visible
    (Unix seconds), if the rule knows. ``messages`` are the broker's records of the order's
    events in a choreography (harness/broker/tap.py), shown beside the journal lines; a run
    without a broker has none, and its JSON carries no such key, so it reads as before."""

    rule: str
    order_id: str | None
    message: str
    ledger_rows: list[JSON] = field(default_factory=list)
    journal_lines: list[JSON] = field(default_factory=list)
    faults: list[JSON] = field(default_factory=list)
    expected: JSON = field(default_factory=dict)
    actual: JSON = field(default_factory=dict)
    account: str = ""
    t: float | None = None
    messages: list[JSON] = field(default_factory=list)

    def to_json(self) -> JSON:
        out: JSON = {
            "rule": self.rule,
            "order_id": self.order_id,
            "message": self.message,
            "ledger_rows": self.ledger_rows,
            "journal_lines": self.journal_lines,
            "faults": self.faults,
            "expected": self.expected,
            "actual": self.actual,
            "account": self.account,
            "t": self.t,
        }
        if self.messages:
            out["messages"] = self.messages
        return out

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> Violation:
        return Violation(
            rule=str(raw["rule"]),
            order_id=raw.get("order_id"),
            message=str(raw.get("message", "")),
            ledger_rows=list(raw.get("ledger_rows") or []),
            journal_lines=list(raw.get("journal_lines") or []),
            faults=list(raw.get("faults") or []),
            expected=dict(raw.get("expected") or {}),
            actual=dict(raw.get("actual") or {}),
            account=str(raw.get("account") or ""),
            t=raw.get("t"),
            messages=list(raw.get("messages") or []),
        )
