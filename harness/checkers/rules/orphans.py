"""Orphan effects: money moved, stock held or mail sent for an order nobody submitted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fracas.fakes import contract
from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View, tag
from fracas.harness.checkers.violation import Violation


@rule("orphan-effects")
def check(view: View) -> Iterator[Violation]:
    """Every payment, refund, reservation, shipment and message belongs to a submitted order
    (one violation per unknown order id, listing all its rows)."""
    orphans: dict[Any, list[dict[str, Any]]] = {}
    for service, t in contract.effect_tables():
        table, index = t.table, view.effects_by_order(service, t.table)
        for oid, rows in index.items():
            if oid not in view.orders:
                orphans.setdefault(oid, []).extend(tag(service, table, r) for r in rows)
    for oid, rows in orphans.items():
        kinds = sorted({f"{r['table']}" for r in rows})
        yield Violation(
            "orphan-effects",
            None if oid is None else str(oid),
            f"{len(rows)} effect(s) ({', '.join(kinds)}) for order {oid!r}, which was never submitted",
            ledger_rows=rows,
        )
