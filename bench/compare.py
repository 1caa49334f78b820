"""The side-by-side resilience table: bundled, DBOS and Temporal, from their fracas reports.

    .venv/bin/python bench/compare.py --run --perf        # run all three, then the table
    .venv/bin/python bench/compare.py bundled=DIR dbos=DIR temporal=DIR   # existing reports

`--run` runs `fracas run --report DIR` for each orchestrator from the folder whose
pyproject.toml declares it (the repo root for bundled, the example's folder for the
engines), keeping its output in DIR/fracas-run.log. Everything in the table's resilience
columns is then read back from the reports (index.json and each run's JSON): nothing is
measured twice, and a table can be rebuilt later from the same directories.
`--perf` adds startup (bench/engines.py's method, median of 3) and happy-path orders/s
through the proxy (bench/orchestrator.py's method, via bench/engines.py), which no report
holds. Orchestrators whose extra is not installed are left out, with the reason.

Columns: scenario tests passed / failed / skipped (pytest's summary line of the run);
violations by rule; completion rate of the orders in runs with a fault (completed of all
orders; declined cards and blocked customers fail by design, so 100% is not the goal,
the same rate as the bundled orchestrator is); retries per order (mean over all orders);
time to settle, order-weighted median of the runs' p50 and the largest p99 (p95 where a
report has no p99).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {
    "bundled": ROOT,
    "dbos": ROOT / "examples/dbos_orchestrator",
    "temporal": ROOT / "examples/temporal_orchestrator",
}
NEEDS = {"bundled": (), "dbos": ("dbos",), "temporal": ("temporalio",)}
SUMMARY = re.compile(r"=+ (.*\d+ (?:passed|failed|skipped|error).*) in [\d.]+s")


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def missing_extra(name: str) -> str | None:
    gone = [m for m in NEEDS[name] if importlib.util.find_spec(m) is None]
    return f"pip install -e '.[{name}]' (no {', '.join(gone)})" if gone else None


def run_suite(name: str, report: Path, extra: list[str]) -> None:
    report.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "fracas.harness.front.cli", "run", "--report", str(report), *extra]
    t0 = time.monotonic()
    with open(report / "fracas-run.log", "w") as log:  # written as it runs: tail -f it
        done = subprocess.run(argv, cwd=FOLDERS[name], stdout=log, stderr=subprocess.STDOUT)
    print(f"{name}: fracas run exited {done.returncode} after {time.monotonic() - t0:.0f} s "
          f"({report})", file=sys.stderr)


def pytest_counts(report: Path) -> dict[str, int]:
    """passed/failed/skipped from the run's pytest summary line (fracas-run.log)."""
    log = report / "fracas-run.log"
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    if not log.exists():
        return {}
    for line in reversed(log.read_text().splitlines()):
        m = SUMMARY.search(line)
        if m:
            for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", m.group(1)):
                key = "failed" if word.startswith("error") else word
                counts[key] += int(n)
            return counts
    return {}


def read_reports(report: Path) -> dict[str, Any]:
    index = json.loads((report / "index.json").read_text())
    rules: Counter[str] = Counter()
    orders = retries = 0.0
    faulted = faulted_completed = 0
    p50s: list[tuple[float, int]] = []
    tails: list[float] = []
    tail_name = "p99"
    for row in index["runs"]:
        run = json.loads((report / row["json"]).read_text())
        for v in run["verdict"].get("violations", []):
            rules[v["rule"]] += 1
        s = run.get("summary") or {}
        n = int(s.get("orders") or 0)
        orders += n
        retries += float((s.get("requests") or {}).get("retries_per_order_mean") or 0) * n
        if row.get("faults"):
            faulted += n
            faulted_completed += int((s.get("outcomes") or {}).get("completed", 0))
        settle = s.get("time_to_settle_s") or {}
        if settle.get("p50") is not None:
            p50s.append((float(settle["p50"]), int(settle.get("n") or 1)))
            tail = settle.get("p99")
            if tail is None:
                tail, tail_name = settle.get("p95"), "p95"
            if tail is not None:
                tails.append(float(tail))
    return {
        "runs": len(index["runs"]),
        "orders": int(orders),
        "rules": dict(rules),
        "completion": faulted_completed / faulted if faulted else None,
        "faulted_orders": faulted,
        "retries": retries / orders if orders else None,
        "settle_p50": _weighted_median(p50s),
        "settle_tail": max(tails) if tails else None,
        "tail_name": tail_name,
    }


def _weighted_median(pairs: list[tuple[float, int]]) -> float | None:
    if not pairs:
        return None
    pairs = sorted(pairs)
    half, seen = sum(w for _, w in pairs) / 2, 0
    for value, weight in pairs:
        seen += weight
        if seen >= half:
            return value
    return pairs[-1][0]


def perf(name: str, seconds: float, rate: float) -> dict[str, Any]:
    """Startup (median of 3, empty state) and happy-path throughput through the proxy."""
    engines = _load("bench_engines", ROOT / "bench/engines.py")
    starts = []
    for _ in range(3):
        state = Path(tempfile.mkdtemp(prefix=f"fracas-compare-{name}-")) / "state"
        starts.append(engines.time_to_healthy(engines.COMMANDS[name], state))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        engines.throughput(name, ["--seconds", str(seconds), "--rate", str(rate),
                                  "--warmup", "2", "--via-proxy"])
    text = out.getvalue()
    done = re.search(r"completed (\d+)\s+->\s+([\d.]+) orders/s", text)
    errors = re.search(r"errors (\d+)", text)
    lat = re.search(r"p50 (\d+) ms .* p99 (\d+) ms", text)
    return {
        "startup": statistics.median(starts),
        "rate": rate,
        "orders_s": float(done.group(2)) if done else None,
        "errors": int(errors.group(1)) if errors else None,
        "lat": (int(lat.group(1)), int(lat.group(2))) if lat else None,
    }


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "–" if x is None else fmt.format(x)


def table(rows: dict[str, dict[str, Any]], skipped: dict[str, str]) -> str:
    head = ["orchestrator", "scenario tests passed / failed / skipped", "violations by rule",
            "completion under faults", "retries per order", "time to settle p50 / tail",
            "orders/s on the happy path (offered; p50 / p99 latency)", "startup"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in rows.items():
        c = r.get("counts") or {}
        tests = (f"{c['passed']} / {c['failed']} / {c['skipped']}" if c else
                 f"{r['runs']} runs (no fracas-run.log)")
        rules = ", ".join(f"{n} × `{rule}`" for rule, n in sorted(r["rules"].items())) or "none"
        settle = (f"{_num(r['settle_p50'])} s / {_num(r['settle_tail'])} s "
                  f"({r['tail_name']})")
        p = r.get("perf")
        if p:
            lat = f"; {p['lat'][0]} / {p['lat'][1]} ms" if p["lat"] else ""
            err = f", {p['errors']} errors" if p["errors"] else ""
            tput = f"{_num(p['orders_s'], '{:.1f}')} ({p['rate']:g}/s offered{lat}{err})"
            start = f"{p['startup']:.2f} s"
        else:
            tput = start = "not measured (--perf)"
        lines.append(f"| {name} | {tests} | {rules} | {_pct(r['completion'])} of "
                     f"{r['faulted_orders']} | {_num(r['retries'])} | {settle} | {tput} "
                     f"| {start} |")
    for name, why in skipped.items():
        lines.append(f"| {name} | not run: {why} | | | | | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("reports", nargs="*", metavar="NAME=DIR",
                   help="existing report directories (bundled=..., dbos=..., temporal=...)")
    p.add_argument("--run", action="store_true",
                   help="run `fracas run --report DIR` for each orchestrator first")
    p.add_argument("--out", type=Path, default=Path("fracas-compare"),
                   help="where --run puts the reports (one folder per orchestrator)")
    p.add_argument("--only", default="bundled,dbos,temporal", help="comma-separated names")
    p.add_argument("-k", dest="keyword", default=None, help="passed to fracas run")
    p.add_argument("--perf", action="store_true", help="also measure startup and orders/s")
    p.add_argument("--seconds", type=float, default=15.0, help="throughput run length")
    p.add_argument("--rate", type=float, default=10.0, help="orders/s offered")
    args = p.parse_args(argv)
    dirs: dict[str, Path] = {}
    for item in args.reports:
        name, sep, path = item.partition("=")
        if not sep or name not in FOLDERS:
            p.error(f"{item!r}: expected NAME=DIR with NAME one of {', '.join(FOLDERS)}")
        dirs[name] = Path(path).resolve()
    names = list(dirs) or [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in FOLDERS]
    if unknown:
        p.error(f"--only: unknown {', '.join(unknown)}; expected {', '.join(FOLDERS)}")
    rows: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for name in names:
        why = missing_extra(name)
        if why:
            skipped[name] = why
            continue
        report = dirs.get(name) or (args.out.resolve() / name)
        if args.run:
            run_suite(name, report, ["-k", args.keyword] if args.keyword else [])
        if not (report / "index.json").exists():
            skipped[name] = f"no index.json in {report} (run with --run)"
            continue
        rows[name] = {**read_reports(report), "counts": pytest_counts(report)}
        if args.perf:
            rows[name]["perf"] = perf(name, args.seconds, args.rate)
    print(table(rows, skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
