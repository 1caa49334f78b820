"""Soak (issue 21): many orders through the bundled orchestrator under generated faults,
with every process's memory sampled after each run.

    .venv/bin/python bench/soak.py [--orders 10000] [--background 20] [--seed 1]

One topology for the whole soak, as one `fracas run` session has: the five fakes, the
embedded fault proxy and the harness (this process) live throughout. Each run is a
workload of the property scenario's strategy (a pack of the coverage plan's cells with
their faults, or a free combination, drawn from the seed; no shrinking), plus
``--background`` orders of every intent beside it, which the faults may reach too. As
the harness does between examples, each run starts the orchestrator on an empty state
dir, so the orchestrator's figure is the memory each run's orchestrator ended with.
The harness files every run as the pytest plugin does when a test ends (its JSON and
HTML report written, only its row kept), so its growth per run is what a session keeps
per example.

Prints the runs, orders, faults and violations, then one row per process: resident
memory (VmRSS) averaged over the first and the last tenth of the runs, the growth
between them, and the largest sample; the harness's growth per run. The promise:
0 violations, and the fakes', the proxy's and the orchestrator's memory flat (growth
<= 20 %). Exit status 1 when a run had a violation.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, find, settings  # noqa: E402

from fracas.fakes.world import build_world  # noqa: E402
from fracas.harness.adapters.base import call_timeout  # noqa: E402
from fracas.harness.kit.proctable import rss_mb  # noqa: E402
from fracas.harness.report.writer import Filed, file_run  # noqa: E402
from fracas.harness.run.runner import run  # noqa: E402
from fracas.harness.run.topology import Topology, TopologyConfig  # noqa: E402
from fracas.harness.run.workload import OrderPlan, allowed_intents, make_order  # noqa: E402
from fracas.harness.search.strategies import Workload, workloads  # noqa: E402


def processes(topo: Topology) -> dict[str, int | None]:
    out: dict[str, int | None] = {name: f.process.pid for name, f in topo.fakes.items()}
    proc = getattr(topo.backend, "process", None)
    out["fault proxy"] = proc.pid if proc is not None else None
    out["orchestrator (each run's)"] = topo.orchestrator.pid
    out["harness"] = os.getpid()
    return out


def with_background(w: Workload, n: int, intents: list[str], seed: int, k: int) -> list[OrderPlan]:
    """The workload's orders, then ``n`` more of every intent in turn, numbered after them."""
    world = build_world(seed)
    rng = random.Random(f"fracas-soak:{seed}:{k}")
    start = len(w.plans)
    more = [make_order(world, intents[(k + i) % len(intents)], start + i + 1, rng) for i in range(n)]
    return [*w.plans, *more]


def table(samples: list[dict[str, float | None]]) -> list[str]:
    tenth = max(1, len(samples) // 10)
    rows = [f"{'process':<26} {'first tenth MB':>14} {'last tenth MB':>13} {'growth':>8} {'max MB':>8}"]
    for name in samples[0]:
        first = [s[name] for s in samples[:tenth] if s.get(name) is not None]
        last = [s[name] for s in samples[-tenth:] if s.get(name) is not None]
        every = [s[name] for s in samples if s.get(name) is not None]
        if not first or not last:
            continue
        a, b = statistics.mean(first), statistics.mean(last)  # type: ignore[type-var]
        rows.append(f"{name:<26} {a:>14.1f} {b:>13.1f} {100 * (b - a) / a:>7.1f}% {max(every):>8.1f}")  # type: ignore[type-var]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders in all (default 2000, ~4 min)")
    parser.add_argument("--background", type=int, default=20, help="fault-free orders beside each workload")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.orders < 1 or args.background < 0:
        parser.error("--orders: expected 1 or more; --background: expected 0 or more")
    results: list[Filed] = []  # as the plugin keeps them once their test ended
    samples: list[dict[str, float | None]] = []
    blocks: list[int] = []
    totals = {"orders": 0, "faults": 0, "violations": 0}
    bad: list[str] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fracas-soak-") as tmp:
        topo = Topology.start(TopologyConfig(run_dir=Path(tmp), seed=args.seed))
        try:
            caps = topo.orchestrator.capabilities
            timeout = call_timeout(topo.orchestrator)
            intents = allowed_intents(caps)
            strategy = workloads(seed=args.seed, max_orders=5, max_faults=2, capabilities=caps,
                                 call_timeout=timeout)  # fmt: skip

            def one(w: Workload) -> bool:
                if totals["orders"] >= args.orders:
                    return True  # (Hypothesis may show the last example once more)
                plans = with_background(w, args.background, intents, args.seed, len(results))
                result = run(topo, plans, w.schedule, seed=args.seed)
                results.append(file_run(Path(tmp) / "report", f"run-{len(results) + 1}", result))
                totals["orders"] += len(plans)
                totals["faults"] += len(result.nemesis.applied)
                if not result.ok:
                    totals["violations"] += len(result.verdict.violations)
                    bad.append(result.failure_text().splitlines()[0])
                samples.append({n: rss_mb(p) for n, p in processes(topo).items()})
                blocks.append(sys.getallocatedblocks())  # what Python itself holds
                if len(results) % 25 == 0:
                    print(f"  {len(results)} runs, {totals['orders']} orders, "
                          f"{totals['violations']} violations, {time.monotonic() - t0:.0f} s",
                          flush=True)  # fmt: skip
                return totals["orders"] >= args.orders

            find(strategy, one, random=random.Random(args.seed), settings=settings(
                max_examples=10**6, database=None, phases=[Phase.generate], deadline=None,
                suppress_health_check=list(HealthCheck)))  # fmt: skip
        finally:
            topo.stop()
    minutes = (time.monotonic() - t0) / 60
    print(f"\n{len(results)} runs, {totals['orders']} orders, {totals['faults']} faults applied, "
          f"{totals['violations']} violations, {minutes:.1f} min (seed {args.seed}, "
          f"{args.background} background orders a run)")  # fmt: skip
    for line in bad[:10]:
        print(f"  violation: {line}")
    print("\n".join(table(samples)))
    harness = [s["harness"] for s in samples if s.get("harness") is not None]
    if len(harness) > 1:
        per_run = (harness[-1] - harness[0]) * 1024 / (len(harness) - 1)  # type: ignore[operator]
        print(f"harness: {per_run:.1f} KB per run (each run's report row kept, as the plugin does)")
    if len(blocks) > 10:  # past the first tenth (imports, caches): what the runs keep
        tenth = len(blocks) // 10
        held = (blocks[-1] - blocks[tenth]) / (len(blocks) - 1 - tenth)
        print(f"harness: {held:.0f} Python memory blocks more per run after the first tenth "
              f"({blocks[tenth]} then {blocks[-1]}); the rest of its growth is the allocator's")
    return 1 if totals["violations"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
