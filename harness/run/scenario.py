"""The handle a scenario holds: the running topology, the seeded world, and ``run``.

A scenario is a pytest test that takes the ``fracas`` fixture::

    def test_payment_latency(fracas):
        result = fracas.run(fracas.orders(10), [
            {"fault": {"kind": "latency", "target": "payment", "params": {"latency_ms": 200}},
             "at": 0, "for": 2},
        ])
        result.assert_consistent()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fracas.fakes.world import World, build_world
from fracas.harness.adapters import OrchestratorAdapter
from fracas.harness.kit.names import first_free, stem_of
from fracas.harness.report.writer import Filed
from fracas.harness.run.runner import RunOptions, RunResult, run
from fracas.harness.run.schedule import Schedule
from fracas.harness.run.slices import reject_if_skipped
from fracas.harness.run.topology import Topology
from fracas.harness.run.workload import OrderPlan, allowed_intents, mixed, orders


@dataclass
class Fracas:
    topology: Topology
    seed: int = 0
    report_dir: Path | None = None
    #: Every run of the session, by name; a run whose test ended is ``Filed``: its
    #: report files written, only its row kept (the plugin's doing).
    results: list[tuple[str, RunResult | Filed]] = field(default_factory=list)
    current_test: str = "run"
    progress: Callable[[str], None] | None = None
    #: Where failing runs' replay files go (None: not written).
    replay_dir: Path | None = None
    #: Called after each run (the plugin's progress line).
    on_result: Callable[[str, RunResult], None] | None = None

    def __repr__(self) -> str:  # Hypothesis prints fixtures in falsifying examples
        return f"<fracas seed={self.seed} orchestrator={self.orchestrator.name} runs={len(self.results)}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis's printer walks dataclasses field by field unless told otherwise."""
        printer.text(repr(self))

    @property
    def world(self) -> World:
        return build_world(self.seed)

    @property
    def orchestrator(self) -> OrchestratorAdapter:
        return self.topology.orchestrator

    def orders(self, count: int, intents: Sequence[str] = ("ok",)) -> list[OrderPlan]:
        """`count` orders from this run's world, cycling through `intents`, less those the
        system under test cannot carry out (a choreography declares no review)."""
        allowed = allowed_intents(self.orchestrator.capabilities, intents) or list(intents)
        return orders(count, self.seed, allowed, self.world)

    def mixed_orders(self, count: int) -> list[OrderPlan]:
        """Mostly happy orders with every edge case in the mix it can carry out."""
        return mixed(count, self.seed, self.world, self.orchestrator.capabilities)

    def require(self, *capabilities: str) -> None:
        """Skip the calling test when the orchestrator lacks a capability."""
        import pytest

        missing = sorted(set(capabilities) - self.orchestrator.capabilities)
        if missing:
            pytest.skip(f"orchestrator lacks {', '.join(missing)}")

    def run(
        self,
        plans: Sequence[OrderPlan],
        schedule: Schedule | dict[str, Any] | list[Any] | None = None,
        *,
        settle_seconds: float = 30.0,
        seed: int | None = None,
        options: RunOptions | None = None,
    ) -> RunResult:
        """Reset the world, run the orders under the schedule, check, and keep the
        result for the report. Raises nothing on violations: call assert_consistent."""
        reject_if_skipped()  # a slice's copy of Hypothesis's simplest example (fracas.harness.run.slices)
        opts = options or RunOptions(settle_seconds=settle_seconds)
        result = run(
            self.topology,
            plans,
            schedule,
            opts,
            seed=self.seed if seed is None else seed,
            progress=self.progress,
        )
        return self.keep(result)

    def keep(self, result: RunResult, suffix: str = "") -> RunResult:
        """Keep a run for the report; a failing one gets a replay file."""
        name = self._run_name(suffix)
        self.results.append((name, result))
        if self.on_result is not None:
            self.on_result(name, result)
        if not result.ok and self.replay_dir is not None:
            path = result.write_replay(self.replay_dir / f"{name}.json")
            result.replay_path = _as_typed(path)
            result.history.meta["replay_file"] = str(path.resolve())
        return result

    def _run_name(self, suffix: str = "") -> str:
        """The run's name in the terminal table, the report and the replay file: the test
        name, then ``-2``, ``-3`` for its later runs (the report writer's own rule)."""
        return first_free(stem_of(self.current_test + suffix), {n for n, _ in self.results})


def _as_typed(path: Path) -> Path:
    """`path` as the user can type it where they ran the suite: relative to the working
    directory when it is inside it, else absolute."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve())
    except ValueError:
        return absolute
