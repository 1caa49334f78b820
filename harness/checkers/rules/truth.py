"""Truth: what the orchestrator says about an order names real ledger rows of that order.

The status-versus-ledger part of "truth" is the completed/failed table (those rules); this
rule checks the rest of the report: the status vocabulary and the ids it hands out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import STATUSES, View
from fracas.harness.checkers.violation import Violation


def _live(kind: str, row: dict[str, Any]) -> bool:
    if kind == "payment":
        return int(row.get("refunded_cents") or 0) < int(row.get("amount_cents") or 0)
    if kind == "reservation":
        return row.get("status") == "held"
    return row.get("status") != "cancelled"


@rule("reported-truth")
def check(view: View) -> Iterator[Violation]:
    """The reported status is one of §2's, the reported order_id is the order's, and every
    reported payment/reservation/shipment id exists and belongs to the order (and, when
    completed, is the live one)."""
    fields = (
        ("payment_id", view.payments_by_id, "payment"),
        ("reservation_id", view.reservations_by_id, "reservation"),
        ("shipment_id", view.shipments_by_id, "shipment"),
    )
    orders = view.orders
    for oid, rep in view.reported.items():
        if rep is None or oid not in orders:
            continue
        problems: list[str] = []
        status = rep.get("status")
        if status not in STATUSES:
            problems.append(f"status {status!r} is not one of the contract's")
        if rep.get("order_id") not in (None, oid):
            problems.append(f"reported under order_id {rep.get('order_id')!r}")
        for field, index, kind in fields:
            rid = rep.get(field)
            if rid is None:
                continue
            row = index.get(rid)
            if row is None:
                problems.append(f"{field} {rid} does not exist in the ledger")
            elif row.get("order_id") != oid:
                problems.append(f"{field} {rid} belongs to order {row.get('order_id')}")
            elif status == "completed" and not _live(kind, row):
                problems.append(f"{field} {rid} is not live ({kind} {row.get('status')})")
        if problems:
            yield Violation(
                "reported-truth",
                oid,
                f"order {oid}: the orchestrator's report is wrong: " + "; ".join(problems),
                ledger_rows=view.ledger_rows(oid),
                actual={"reported": dict(rep)},
            )
