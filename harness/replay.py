"""Replay files: the orders, schedule and seed of a run, to run it again.

A replay file is data: it is parsed and validated (every field named in errors), never
executed. Rerunning it tells whether the original violations reproduce; a failure that
does not reproduce is reported as such, because a flaky verdict is still a finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.runner import REPLAY_VERSION, RunResult
from harness.schedule import Schedule, ScheduleError, parse_schedule
from harness.workload import OrderPlan, WorkloadError


class ReplayError(ValueError):
    """A replay file that does not validate."""


@dataclass(frozen=True)
class Replay:
    seed: int
    plans: list[OrderPlan]
    schedule: Schedule
    settle_seconds: float
    violations: frozenset[tuple[str, str]]

    def outcome(self, result: RunResult) -> str:
        """'reproduced', 'did not reproduce', 'still consistent' or 'changed'."""
        now = {(v.rule, v.order_id or "") for v in result.verdict.violations}
        if not self.violations:
            return "still consistent" if not now else "changed"
        if self.violations <= now:
            return "reproduced"
        return "did not reproduce" if not now else "changed"


def load_replay(path: Path) -> Replay:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReplayError(f"{path}: not valid JSON ({exc})") from None
    return parse_replay(data, str(path))


def parse_replay(data: Any, where: str = "replay") -> Replay:
    if not isinstance(data, dict):
        raise ReplayError(f"{where}: expected a JSON object written by fracas")
    if data.get("fracas_replay") != REPLAY_VERSION:
        raise ReplayError(
            f"{where}.fracas_replay: expected {REPLAY_VERSION}, got {data.get('fracas_replay')!r}"
            " (is this a fracas replay file?)"
        )
    seed = data.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ReplayError(f"{where}.seed: expected a whole number, got {seed!r}")
    orders = data.get("orders")
    if not isinstance(orders, list):
        raise ReplayError(f"{where}.orders: expected a list of orders")
    try:
        plans = [OrderPlan.from_json(o, f"{where}.orders[{i}]") for i, o in enumerate(orders)]
        schedule = parse_schedule(data.get("schedule", {"faults": []}))
    except (WorkloadError, ScheduleError) as exc:
        raise ReplayError(str(exc)) from None
    settle = data.get("settle_seconds", 30.0)
    if settle is None:
        settle = 30.0
    if isinstance(settle, bool) or not isinstance(settle, int | float) or not 0 < settle <= 3600:
        raise ReplayError(f"{where}.settle_seconds: expected 0 to 3600 seconds, got {settle!r}")
    raw = data.get("violations", [])
    if not isinstance(raw, list) or not all(
        isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v) for v in raw
    ):
        raise ReplayError(f"{where}.violations: expected a list of [rule, order_id] pairs")
    return Replay(seed, plans, schedule, float(settle), frozenset((r, o) for r, o in raw))
