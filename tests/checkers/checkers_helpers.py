"""Verdict shorthands for the checker tests (a uniquely named module, not conftest, so
imports cannot collide with other test directories' helpers)."""

from __future__ import annotations

from typing import Any

from harness.checkers import CheckConfig, CheckResult, check
from harness.checkers.synth import World


def verdict(w: World, config: CheckConfig | None = None, **snap: Any) -> CheckResult:
    return check(w.snapshot(**snap), config)


def named(result: CheckResult) -> set[tuple[str, str | None]]:
    return {(v.rule, v.order_id) for v in result.violations}
