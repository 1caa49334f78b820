"""Startup time and happy-path orders/s of the engine examples (DBOS, Temporal, bundled).

    .venv/bin/python bench/engines.py startup [dbos|temporal|bundled ...]
    .venv/bin/python bench/engines.py throughput dbos -- --seconds 30 --rate 60 --via-proxy

`startup` starts the orchestrator on an empty state dir and again on the state it left
(a restart), three times each, and times the first 200 from /healthz. `throughput` is
bench/orchestrator.py itself (same load, same proxy, same figures) with the example's
command in place of the bundled orchestrator's.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fracas.harness.kit.net import free_port  # noqa: E402
from fracas.harness.kit.procs import ManagedProcess  # noqa: E402

COMMANDS = {
    "dbos": [sys.executable, str(ROOT / "examples/dbos_orchestrator/app.py")],
    "temporal": [sys.executable, str(ROOT / "examples/temporal_orchestrator/app.py")],
    "bundled": [sys.executable, "-m", "fracas.orchestrator"],
}


def time_to_healthy(argv: list[str], state: Path) -> float:
    port = free_port()
    env = {**os.environ, "FRACAS_LISTEN": f"127.0.0.1:{port}", "FRACAS_STATE_DIR": str(state)}
    for s in ("crm", "payment", "inventory", "shipping", "notify"):
        env[f"FRACAS_{s.upper()}_URL"] = "http://127.0.0.1:9"  # never called at start
    proc = ManagedProcess("orchestrator", argv, state.parent / f"{state.name}.log", env=env)
    t0 = time.monotonic()
    proc.start()

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        proc.wait_healthy(healthy, 60.0)
        return time.monotonic() - t0
    finally:
        proc.kill()


def startup(names: list[str]) -> None:
    for name in names or list(COMMANDS):
        cold, warm = [], []
        for _ in range(3):
            state = Path(tempfile.mkdtemp(prefix=f"fracas-start-{name}-")) / "state"
            cold.append(time_to_healthy(COMMANDS[name], state))
            warm.append(time_to_healthy(COMMANDS[name], state))
        print(f"{name:9s} start {statistics.median(cold):5.2f} s (median of 3, "
              f"{min(cold):.2f}-{max(cold):.2f})   restart on its state "
              f"{statistics.median(warm):5.2f} s")


def throughput(name: str, rest: list[str]) -> int:
    spec = importlib.util.spec_from_file_location("bench_orchestrator",
                                                  ROOT / "bench/orchestrator.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.python_argv = lambda _module: COMMANDS[name]  # the one seam: which command runs
    return int(bench.main(rest))


def main(argv: list[str]) -> int:
    if argv[:1] == ["startup"]:
        startup(argv[1:])
        return 0
    if argv[:1] == ["throughput"] and len(argv) > 1 and argv[1] in COMMANDS:
        return throughput(argv[1], [a for a in argv[2:] if a != "--"])
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
