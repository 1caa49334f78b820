"""How fast the whole topology comes up, resets between examples, and goes away.

    python bench/topology.py [--rounds 5]

Targets (issue 5): up in <= 3 s; reset <= 100 ms apart from the orchestrator restart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fracas.harness.run.topology import Topology, TopologyConfig  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ups: list[float] = []
    resets: list[float] = []
    restarts: list[float] = []
    downs: list[float] = []
    for i in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            topo = Topology.start(TopologyConfig(run_dir=Path(tmp), seed=i))
            ups.append(topo.started_in)
            for _ in range(3):
                t = time.monotonic()
                resets.append(topo.reset(seed=i))
                restarts.append(time.monotonic() - t - resets[-1])
            t = time.monotonic()
            topo.stop()
            downs.append(time.monotonic() - t)

    def row(name: str, xs: list[float], target: str) -> str:
        return (f"{name:<34} {statistics.median(xs) * 1000:>9.1f} {max(xs) * 1000:>9.1f}"
                f"  {target}")

    print(f"{'':<34} {'median ms':>9} {'max ms':>9}  target")
    print(row("topology up (all 7 processes)", ups, "<= 3000 ms"))
    print(row("reset (fakes, proxies, faults)", resets, "<= 100 ms"))
    print(row("  + orchestrator restart", restarts, "(excluded)"))
    print(row("topology down", downs, ""))
    print(f"({args.rounds} rounds, {len(resets)} resets)")


if __name__ == "__main__":
    main()
