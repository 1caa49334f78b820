"""Running every registered rule over one snapshot and collecting the verdict."""

from __future__ import annotations

import gc
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fracas.harness.checkers import rules as _rules  # noqa: F401 - registers every rule
from fracas.harness.checkers.registry import all_rules
from fracas.harness.checkers.view import CheckConfig, View
from fracas.harness.checkers.violation import Violation
from fracas.harness.checkers.witness import enrich_all
from fracas.harness.model.snapshot import Snapshot

JSON = dict[str, Any]


@dataclass
class CheckResult:
    violations: list[Violation]
    rules: list[str]
    orders: int
    seconds: float
    rule_seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.errors

    def to_json(self) -> JSON:
        return {
            "ok": self.ok,
            "orders": self.orders,
            "rules": self.rules,
            "seconds": self.seconds,
            "rule_seconds": self.rule_seconds,
            "errors": self.errors,
            "violations": [v.to_json() for v in self.violations],
        }

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> CheckResult:
        return CheckResult(
            violations=[Violation.from_json(v) for v in raw.get("violations", [])],
            rules=list(raw.get("rules", [])),
            orders=int(raw.get("orders", 0)),
            seconds=float(raw.get("seconds", 0.0)),
            rule_seconds=dict(raw.get("rule_seconds") or {}),
            errors=dict(raw.get("errors") or {}),
        )


def check(
    snapshot: Snapshot,
    config: CheckConfig | None = None,
    *,
    witness: bool = True,
    view: View | None = None,
) -> CheckResult:
    """Run the rules; a rule that crashes is reported in ``errors`` and does not hide the
    others' verdicts. ``witness=False`` skips enrichment (for benchmarks of the rules alone)."""
    with no_gc():
        return _check(snapshot, config, witness, view)


@contextmanager
def no_gc() -> Iterator[None]:
    """The collector would rescan the snapshot's millions of dicts on every generation-2
    pass triggered by the indexes' allocations (acyclic, so nothing to collect): pausing it
    makes a large check several times faster."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check(
    snapshot: Snapshot, config: CheckConfig | None, witness: bool, view: View | None
) -> CheckResult:
    cfg = config or CheckConfig()
    v = view or View(snapshot, cfg)
    start = time.perf_counter()
    names: list[str] = []
    found: list[Violation] = []
    timings: dict[str, float] = {}
    errors: dict[str, str] = {}
    for name, r in sorted(all_rules().items()):
        if (cfg.rules is not None and name not in cfg.rules) or name in cfg.skip_rules:
            continue
        names.append(name)
        t = time.perf_counter()
        try:
            found.extend(r.check(v))
        except Exception:  # noqa: BLE001 - one broken rule must not hide the others
            errors[name] = traceback.format_exc()
        timings[name] = time.perf_counter() - t
    if witness:
        t = time.perf_counter()
        enrich_all(v, found)
        timings["(witness)"] = time.perf_counter() - t
    return CheckResult(
        found, names, len(snapshot.orders), time.perf_counter() - start, timings, errors
    )
