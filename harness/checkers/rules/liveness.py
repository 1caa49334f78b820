"""Liveness: once its faults have healed, every order must finish within the settle time."""

from __future__ import annotations

from collections.abc import Iterator

from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import TERMINAL, View
from fracas.harness.checkers.violation import Violation


@rule("liveness")
def check(view: View) -> Iterator[Violation]:
    """Every submitted order ends in a terminal status (one whose every submission was
    definitely refused must instead have no effects at all), and (when the scenario sets a settle
    time) was first seen terminal within settle_seconds after the later of its submission
    and the healing of the last fault active during its life."""
    settle = view.snapshot.settle.settle_seconds
    rejected = view.rejected
    for oid in view.orders:
        status = view.status(oid)
        if status is None and oid in rejected:
            rows = view.ledger_rows(oid)
            if rows:
                yield Violation(
                    "liveness",
                    oid,
                    f"order {oid} was refused at submission yet has {len(rows)} effect(s)",
                    ledger_rows=rows,
                    expected={"effects": 0},
                    actual={"effects": len(rows)},
                )
            continue
        if status not in TERMINAL:
            shown = (
                "unknown to the orchestrator (404)"
                if status is None and oid not in view.reported
                else status
            )
            yield Violation(
                "liveness",
                oid,
                f"order {oid} never reached a terminal status (last seen: {shown})",
                ledger_rows=view.ledger_rows(oid),
                expected={"status": "terminal"},
                actual={"status": status},
            )
            continue
        if settle is None:
            continue
        done = view.terminal_t.get(oid)
        start = view.submitted_t.get(oid)
        if done is None or start is None:
            continue  # no timing evidence: nothing to judge
        heal, unhealed = view.last_heal(start, done)
        if unhealed:
            continue  # a fault never healed: the obligation never started
        base = start if heal is None else max(start, heal)
        if done - base > settle:
            yield Violation(
                "liveness",
                oid,
                f"order {oid} was first seen {status} {done - base:.3f} s after its last fault "
                f"healed or it was submitted; the settle time is {settle:.3f} s",
                ledger_rows=view.ledger_rows(oid),
                t=done,
                expected={"settle_seconds": settle},
                actual={"settle_seconds": round(done - base, 3)},
            )
