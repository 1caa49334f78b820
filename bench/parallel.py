"""What parallel topologies buy on this machine: suite wall time and property examples
per minute at ``-n 1, 2, 4``, each run's CPU use, and where an example's time goes.

    python bench/parallel.py                         # the default suite (ci) at -n 1, 2, 4
    python bench/parallel.py --soak 120 -n 1 4       # the property scenario, soak profile,
                                                     # 120 examples, at -n 1 and -n 4

Each configuration is one ``fracas run`` in a subprocess against the bundled
orchestrator, with its own report folder. Wall time is measured around it; CPU time is
the whole process tree's (user + system, from the kernel's accounting of waited-for
children), so "CPU use" is CPU seconds per wall second: 2.0 means both cores busy.
Examples, violations and the per-example cost split (topology reset, workload, settle,
check: means over the property scenario's runs, from each run's ``meta.timings``) come
from the run's merged report. The machine's load average is printed next to each row:
other work on the machine slows every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]
PHASES = ("reset_total", "workload", "settle", "check")
PROPERTY = "test_any_schedule_keeps_orders_consistent"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_one(workers: int, report: Path, profile: str, keyword: str | None, soak: int | None,
            slices: int | None) -> dict[str, object]:
    argv = [*FRACAS, "run", "--report", str(report), "--profile", profile]
    if workers > 1:
        argv += ["-n", str(workers)]
    if keyword:
        argv += ["-k", keyword]
    if slices:
        argv += ["--slices", str(slices)]
    env = dict(os.environ)
    if soak is not None:
        env["FRACAS_SOAK_EXAMPLES"] = str(soak)
    load0 = os.getloadavg()[0]
    cpu0, t0 = _cpu(), time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    wall, cpu = time.monotonic() - t0, _cpu() - cpu0
    load1 = os.getloadavg()[0]
    tail = done.stdout.strip().splitlines()[-1:] or [""]
    index = json.loads((report / "index.json").read_text())
    costs: dict[str, list[float]] = {p: [] for p in PHASES}
    examples = 0
    for row in index["runs"]:
        if not row["run"].startswith(PROPERTY):
            continue
        examples += 1
        timings = json.loads((report / row["json"]).read_text())["meta"].get("timings") or {}
        for p in PHASES:
            if p in timings:
                costs[p].append(float(timings[p]))
    return {
        "workers": workers,
        "exit": done.returncode,
        "summary": tail[0],
        "wall": wall,
        "cpu": cpu,
        "runs": index["totals"]["runs"],
        "violations": index["totals"]["violations"],
        "failures": index["totals"]["pytest_failures"],
        "examples": examples,
        "costs": {p: statistics.mean(v) if v else None for p, v in costs.items()},
        "load": (load0, load1),
    }


def table(rows: list[dict[str, object]]) -> str:
    head = ("| -n | wall | CPU s (use) | runs | property examples | examples/min | violations "
            "| pytest failures | per example: reset / workload / settle / check | load 1-min "
            "before → after |")
    lines = [head, "|---" * 10 + "|"]
    base = next((r for r in rows if r["workers"] == 1), None)
    for r in rows:
        wall, cpu, ex = float(r["wall"]), float(r["cpu"]), int(r["examples"])  # type: ignore[arg-type]
        speed = f" ({float(base['wall']) / wall:.2f}× -n 1)" if base and r is not base else ""  # type: ignore[arg-type]
        costs = r["costs"]
        split = " / ".join(
            "-" if costs[p] is None else f"{costs[p] * 1000:.0f} ms"  # type: ignore[index]
            for p in PHASES
        )
        load = r["load"]
        lines.append(
            f"| {r['workers']} | {wall:.0f} s{speed} | {cpu:.0f} ({cpu / wall:.2f}) | {r['runs']} "
            f"| {ex} | {ex / wall * 60:.1f} | {r['violations']} | {r['failures']} | {split} "
            f"| {load[0]:.1f} → {load[1]:.1f} |"  # type: ignore[index]
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", dest="workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--soak", type=int, default=None, metavar="EXAMPLES",
                        help="only the property scenario, soak profile, this many examples")
    parser.add_argument("--profile", default=None, help="default: ci (soak with --soak)")
    parser.add_argument("-k", dest="keyword", default=None)
    parser.add_argument("--slices", type=int, default=None,
                        help="Hypothesis slices (default: the profile's)")
    parser.add_argument("--out", type=Path, default=None, help="keep the reports here")
    args = parser.parse_args()
    profile = args.profile or ("soak" if args.soak is not None else "ci")
    keyword = args.keyword or (PROPERTY if args.soak is not None else None)
    out = args.out or Path(tempfile.mkdtemp(prefix="fracas-parallel-"))
    print(f"# {os.cpu_count()} CPUs; profile {profile}; -k {keyword or '(whole suite)'}; "
          f"reports in {out}", flush=True)
    rows = []
    for n in args.workers:
        row = run_one(n, out / f"n{n}", profile, keyword, args.soak, args.slices)
        print(f"# -n {n}: {row['wall']:.0f} s, exit {row['exit']}: {row['summary']}", flush=True)
        rows.append(row)
    print(table(rows))


if __name__ == "__main__":
    main()
