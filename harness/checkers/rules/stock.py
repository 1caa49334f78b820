"""Stock conservation: reservations move units between on_hand and held, never create them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View, tag
from fracas.harness.checkers.violation import Violation


@rule("stock-conservation")
def check(view: View) -> Iterator[Violation]:
    """For every SKU on_hand + held equals initial_on_hand, nothing is negative, and held
    equals the units of the reservations still held."""
    held_by_sku: Counter[str] = Counter()
    holders: dict[str, list[str]] = {}
    for r in view.reservations:
        if r.get("status") == "held":
            for line in r.get("lines") or []:
                sku = str(line.get("sku"))
                held_by_sku[sku] += int(line.get("qty") or 0)
                holders.setdefault(sku, []).append(str(r.get("reservation_id")))
    for s in view.stock:
        sku = str(s.get("sku"))
        on_hand, held, initial = (
            int(s.get("on_hand") or 0),
            int(s.get("held") or 0),
            int(s.get("initial_on_hand") or 0),
        )
        problems = []
        if on_hand + held != initial:
            problems.append(
                f"on_hand {on_hand} + held {held} = {on_hand + held}, seeded with {initial}"
            )
        if on_hand < 0 or held < 0:
            problems.append(f"negative stock (on_hand {on_hand}, held {held})")
        if held != held_by_sku[sku]:
            problems.append(f"held {held} but held reservations hold {held_by_sku[sku]}")
        if problems:
            rows = [tag("inventory", "stock", s)] + [
                tag("inventory", "reservations", view.reservations_by_id[rid])
                for rid in holders.get(sku, [])[:20]
            ]
            yield Violation(
                "stock-conservation",
                None,
                f"SKU {sku}: " + "; ".join(problems),
                ledger_rows=rows,
                expected={"sku": sku, "on_hand+held": initial, "held": held_by_sku[sku]},
                actual={"sku": sku, "on_hand+held": on_hand + held, "held": held},
            )
