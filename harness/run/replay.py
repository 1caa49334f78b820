"""Replay files: the orders, schedule and seed of a run, and what it ran against (the
orchestrator as resolved, the fault backend, the fracas version), to run it again.

A replay file is data: it is parsed and validated (every field named in errors), never
executed. Rerunning it tells whether the original violations reproduce; a failure that
does not reproduce is reported as such, because a flaky verdict is still a finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fracas.harness.adapters import AdapterError
from fracas.harness.adapters.select import AdapterSpec, spec_from_json
from fracas.harness.faults.client import races
from fracas.harness.run.runner import REPLAY_VERSION, RunResult
from fracas.harness.run.schedule import Schedule, ScheduleError, parse_schedule
from fracas.harness.run.workload import OrderPlan, WorkloadError


class ReplayError(ValueError):
    """A replay file that does not validate."""


@dataclass(frozen=True)
class Replay:
    seed: int
    plans: list[OrderPlan]
    schedule: Schedule
    settle_seconds: float
    violations: frozenset[tuple[str, str]]
    #: What the run ran against; None in files written before fracas recorded it.
    orchestrator: AdapterSpec | None = None
    fault_backend: str | None = None
    fracas_version: str | None = None
    #: The adapter class a conftest's ``fracas_adapter`` fixture tested through, when it
    #: did: an object a replay file cannot rebuild, so ``fracas replay`` must be told.
    adapter: str | None = None

    @property
    def races(self) -> list[str]:
        """Its faults that are races by nature (``faults.client.races``): its verdict may
        differ from run to run, and the tally says so instead of blaming timing."""
        return races([entry.fault for entry in self.schedule.faults])

    def outcome(self, result: RunResult) -> str:
        """'reproduced', 'reproduced in kind (...)', 'did not reproduce', 'still consistent'
        or 'changed'."""
        now = frozenset((v.rule, v.order_id or "") for v in result.verdict.violations)
        intents = {p.order_id: p.intent for p in self.plans}
        return compare_violations(self.violations, now, intents)


def compare_violations(
    recorded: frozenset[tuple[str, str]], now: frozenset[tuple[str, str]],
    intents: dict[str, str],
) -> str:  # fmt: skip
    """The replay verdict, matching each recorded (rule, order) to one found now by rule
    and by the order's intent, not by its id: a one-shot rule pinned to no order hits
    whichever order gets there first, so the same failure may land on a sibling order
    with the same intent, and that is the failure reproduced, not a new one."""
    if not recorded:
        return "still consistent" if not now else "changed"
    if not now:
        return "did not reproduce"
    spare = sorted(now - recorded)
    moved: list[tuple[str, str]] = []
    for rule, order in sorted(recorded - now):
        twin = next((v for v in spare if v[0] == rule and order
                     and intents.get(v[1], "") == intents.get(order)), None)  # fmt: skip
        if twin is None:
            return "changed"
        spare.remove(twin)
        moved.append((order, twin[1]))
    if not moved:
        return "reproduced"
    shifts = ", ".join(f"recorded on {a}, now on {b}" for a, b in moved)
    return f"reproduced in kind ({shifts}, same intent)"


def reproduced(outcome: str) -> bool:
    """Whether an outcome of ``compare_violations`` counts as the failure reproduced."""
    return outcome == "reproduced" or outcome.startswith("reproduced in kind")


def tally_text(replay: Replay, outcomes: list[str]) -> str:
    """The closing lines of ``fracas replay --times N``: how often it reproduced, and
    what the other outcomes mean, in words."""
    n = len(outcomes)
    if not replay.violations:
        kept = outcomes.count("still consistent")
        lines = [f"fracas: still consistent in {kept} of {n} runs"]
    else:
        k = sum(map(reproduced, outcomes))
        in_kind = sum(o.startswith("reproduced in kind") for o in outcomes)
        lines = [f"fracas: reproduced {k} of {n} runs"
                 + (f" ({in_kind} in kind: the same rules on other orders with the same "
                    "intents)" if in_kind else "")]
        if k < n and replay.races:
            lines.append(
                f"fracas: the recorded failure did not reproduce every time, and may not: "
                f"its faults include a race by nature ({'; '.join(replay.races)}), so each "
                "run may take the other branch. The verdict differing is the race, not "
                "fracas failing to recreate the run; the finding stands (the failing runs' "
                "witnesses show the branch that breaks it)"
            )
        elif k < n:
            lines.append(
                "fracas: the recorded failure did NOT reproduce every time: it depends on "
                "timing this replay did not recreate; keep the replay file, the finding stands"
            )
    if "changed" in outcomes:
        lines.append(
            f"fracas: {outcomes.count('changed')} of {n} runs changed: the checkers found "
            "violations, but not the recorded ones (the same rules on other orders, or other "
            "rules); the orders and faults interleaved differently"
        )
    return "\n".join(lines)


def load_replay(path: Path) -> Replay:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        # fracas writes replays as UTF-8 JSON: anything else is another kind of file.
        raise ReplayError(
            f"{path}: not a replay file (not UTF-8 text: byte {exc.start} is {exc.object[exc.start]:#04x})"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReplayError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict) and "fracas_replay" not in data and "replay" in data:
        raise ReplayError(_report_not_replay(Path(path), data))
    return parse_replay(data, str(path))


def _report_not_replay(path: Path, data: dict[str, Any]) -> str:
    """A run report (``<run>.json``) is not a replay file: name the one to use."""
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    named = meta.get("replay_file") if isinstance(meta, dict) else None
    candidates = [Path(named)] if isinstance(named, str) else []
    candidates.append(path.parent / "replays" / path.name)
    for candidate in candidates:
        if candidate.is_file():
            return (
                f"{path} is a run report, not a replay file; replay that run with: "
                f"fracas replay {candidate}"
            )
    return (
        f"{path} is a run report, not a replay file, and that run has no replay file "
        f"(only failing runs get one, in {path.parent / 'replays'})"
    )


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
    except WorkloadError as exc:
        raise ReplayError(str(exc)) from None
    try:
        schedule = parse_schedule(data.get("schedule", {"faults": []}))
    except ScheduleError as exc:  # its message starts at the schedule: say whose
        said = str(exc)
        raise ReplayError(f"{where}." + (said if said.startswith("schedule") else
                                         f"schedule.{said}")) from None  # fmt: skip
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
    orchestrator = None
    if data.get("orchestrator") is not None:
        try:
            orchestrator = spec_from_json(data["orchestrator"], f"{where}.orchestrator")
        except AdapterError as exc:
            raise ReplayError(str(exc)) from None
    backend = data.get("fault_backend")
    if backend is not None and not isinstance(backend, str):
        raise ReplayError(f"{where}.fault_backend: expected a backend name, got {backend!r}")
    version = data.get("fracas_version")
    adapter = data.get("adapter")
    if adapter is not None and not (
        isinstance(adapter, dict) and isinstance(adapter.get("class"), str)
    ):
        raise ReplayError(f'{where}.adapter: expected {{"class": "module.Class"}}, got {adapter!r}')
    return Replay(
        seed,
        plans,
        schedule,
        float(settle),
        frozenset((r, o) for r, o in raw),
        orchestrator=orchestrator,
        fault_backend=backend,
        fracas_version=version if isinstance(version, str) else None,
        adapter=_adapter_text(adapter) if adapter is not None else None,
    )


def _adapter_text(adapter: dict[str, Any]) -> str:
    desc = adapter.get("description")
    return f"{adapter['class']} ({desc})" if isinstance(desc, str) and desc else adapter["class"]
