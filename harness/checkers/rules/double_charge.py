"""Double charge: two captures for one order, whatever happened to them afterwards."""

from __future__ import annotations

from collections.abc import Iterator

from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View, fmt_money, tag
from fracas.harness.checkers.violation import Violation


@rule("double-charge")
def check(view: View) -> Iterator[Violation]:
    """Every order has at most one capture. A second capture is a violation even when it
    was refunded: the customer's card was charged twice (§5)."""
    for oid, payments in view.payments_by_order.items():
        if oid is None or len(payments) < 2:
            continue
        parts = []
        for p in payments:
            refunded = int(p.get("refunded_cents") or 0)
            note = f", {fmt_money(refunded)} refunded" if refunded else ""
            parts.append(
                f"{p.get('payment_id')} {fmt_money(p.get('amount_cents'), p.get('currency'))}{note} "
                f"(key {p.get('idempotency_key')})"
            )
        yield Violation(
            "double-charge",
            str(oid),
            f"order {oid} was captured {len(payments)} times: " + "; ".join(parts),
            ledger_rows=[tag("payment", "payments", p) for p in payments]
            + [tag("payment", "refunds", r) for r in view.refunds_by_order.get(oid, ())],
            expected={"captures": 1},
            actual={"captures": len(payments)},
        )
