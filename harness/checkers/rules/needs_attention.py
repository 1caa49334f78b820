"""§5, row ``needs_attention``: dead-lettered orders are counted against a tolerance."""

from __future__ import annotations

from collections.abc import Iterator

from fracas.harness.checkers.picture import picture
from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View
from fracas.harness.checkers.violation import Violation


@rule("needs-attention")
def check(view: View) -> Iterator[Violation]:
    """No more orders end needs_attention than the scenario tolerates (default 0); when
    there are more, every one of them is reported with its ledger picture."""
    stuck = [oid for oid in view.orders if view.status(oid) == "needs_attention"]
    tolerance = view.config.needs_attention_tolerance
    if len(stuck) <= tolerance:
        return
    for oid in stuck:
        pic = picture(view, oid).to_json()
        yield Violation(
            "needs-attention",
            oid,
            f"order {oid} ended needs_attention ({len(stuck)} such orders, {tolerance} tolerated); "
            f"ledgers show {pic}",
            ledger_rows=view.ledger_rows(oid),
            expected={"needs_attention_orders": f"<= {tolerance}"},
            actual={"needs_attention_orders": len(stuck), **pic},
        )
