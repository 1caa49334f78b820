"""A choreography's witness includes the broker's messages for the order, because the
saga's flow exists only in its event stream.

An orchestrator's witness is its HTTP calls. A choreography also shows which events the
broker stored, delivered again, or saw acked. The tap (harness/broker/tap.py) records
each message with the order its correlation id names. This joins those records to a
violation by the same order ids the journal join uses. Nothing changes for a run
without a broker: it has no messages to join.
"""

from __future__ import annotations

from typing import Any

from fracas.harness.checkers.view import View
from fracas.harness.checkers.violation import Violation

JSON = dict[str, Any]
MAX_MESSAGES = 200
#: A participant's "still working" replies (+WPI) come every third of the ack wait
#: during a slow call. They change nothing the broker does and would crowd out the
#: stores, deliveries and acks.
_NOISE = frozenset({"working"})


def _order_ids(v: Violation) -> list[Any]:
    """The orders a violation is about: its own, and those its ledger rows name (an
    orphan or idempotency finding may name none of its own)."""
    ids: dict[Any, None] = {}
    if v.order_id is not None:
        ids[v.order_id] = None
    for lr in v.ledger_rows:
        row = lr.get("row") or {}
        for f in ("order_id", "correlation_id"):
            if row.get(f) is not None:
                ids[row[f]] = None
    return list(ids)


def join_messages(view: View, violations: list[Violation]) -> None:
    """Fill each violation's ``messages`` that the rule left empty, in time order."""
    by_order = view.broker_by_order
    if not by_order:
        return
    for v in violations:
        if v.messages:
            continue
        found = [m for oid in _order_ids(v) for m in by_order.get(oid, ())
                 if m.get("kind") not in _NOISE]  # fmt: skip
        found.sort(key=lambda m: float(m.get("t") or 0.0))
        v.messages = found[:MAX_MESSAGES]
