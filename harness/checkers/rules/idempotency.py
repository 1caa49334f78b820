"""One effect per idempotency key: the fakes' replay must have held under every fault."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fracas.fakes import contract
from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View, tag
from fracas.harness.checkers.violation import Violation


@rule("idempotency")
def check(view: View) -> Iterator[Violation]:
    """No idempotency key produced two effect rows in one table (a key's scope is its
    service's table: the same key on a capture and a refund is not a collision)."""
    for service, t in contract.effect_tables():
        table, rows = t.table, view.effect_rows(service, t.table)
        first: dict[Any, dict[str, Any]] = {}
        dups: dict[Any, list[dict[str, Any]]] = {}
        for r in rows:
            k = r.get("idempotency_key")
            if k is None:
                continue
            if k in first:
                dups.setdefault(k, [first[k]]).append(r)
            else:
                first[k] = r
        for key, same in dups.items():
            oid = same[0].get("order_id")
            yield Violation(
                "idempotency",
                None if oid is None else str(oid),
                f"idempotency key {key!r} produced {len(same)} {table} rows in {service}",
                ledger_rows=[tag(service, table, r) for r in same],
                expected={"rows_per_key": 1},
                actual={"rows_per_key": len(same), "key": key},
            )
