"""Verdict shorthands for the checker tests (a uniquely named module, not conftest, so
imports cannot collide with other test directories' helpers)."""

from __future__ import annotations

from typing import Any

from synth_ledger import SynthWorld

from fracas.harness.checkers import CheckConfig, CheckResult, check


def verdict(w: SynthWorld, config: CheckConfig | None = None, **snap: Any) -> CheckResult:
    return check(w.snapshot(**snap), config)


def named(result: CheckResult) -> set[tuple[str, str | None]]:
    return {(v.rule, v.order_id) for v in result.violations}
