"""Nothing leaks, measured: the scenario suite on two xdist workers, its pytest killed
with SIGKILL at random moments, and what is left of it counted from the process table
and the sockets.

    .venv/bin/python bench/leaks.py [--times 10] [--seed 1] [--within 60] [--grace 30]

Each time: ``fracas run -n 2`` (the process that runs pytest, as the CLI does) starts
in a folder of its own, in a session of its own; at a moment drawn from the seed within
``--within`` seconds, every process under it (the xdist workers, and per worker the five
fakes, the fault proxy and the orchestrator) and every TCP port they listen on is
noted, and the pytest process gets SIGKILL, with no chance to clean up. The harness's
own watchdogs must then take everything down. A row says how many processes and
listening ports were there, and how many were still there after ``--grace`` seconds
(the figure; the promise is 0 and 0), and how long the last one took to go.

tests/harness/test_leaks.py proves the same on a two-minute scenario of its own; this
is the figure on the real suite, at random moments (issue 21).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fracas.harness.kit.proctable import alive, descendants, listening, ports_of  # noqa: E402

FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]


def still_listening(ports: set[int]) -> set[int]:
    return ports & set(listening().values())


def one(at: float, grace: float, work: Path) -> tuple[int, int, int, int, float]:
    """Kill the suite's pytest ``at`` seconds in: (processes, ports) before, (processes,
    ports) left after ``grace`` seconds, and seconds until the last was gone."""
    log = (work / "fracas.log").open("w")
    proc = subprocess.Popen([*FRACAS, "run", "-n", "2", "--report", str(work / "report")],
                            cwd=work, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    time.sleep(at)  # the moment itself is the measurement's input, drawn from the seed
    pids = descendants(proc.pid)
    ports = ports_of(pids | {proc.pid})
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = time.monotonic()
    gone_at = killed
    while time.monotonic() - killed < grace:
        left = {p for p in pids if alive(p)}
        open_ports = still_listening(ports)
        if not left and not open_ports:
            break
        gone_at = time.monotonic()
        time.sleep(0.1)
    left = {p for p in pids if alive(p)}
    open_ports = still_listening(ports)
    for pid in left:  # the bench cleans up after a leak it found, and says so
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    log.close()
    return len(pids), len(ports), len(left), len(open_ports), gone_at - killed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--times", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--within", type=float, default=60.0,
                    help="the latest moment to kill at, in seconds (the suite at -n 2 "
                         "takes about a minute)")  # fmt: skip
    ap.add_argument("--grace", type=float, default=30.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    moments = sorted(round(rng.uniform(2.0, args.within), 1) for _ in range(args.times))
    print(f"pytest (`fracas run -n 2`) SIGKILLed at {args.times} moments (seed {args.seed}); "
          f"left = still there {args.grace:g} s after the kill")  # fmt: skip
    print("kill at (s) | processes | listening ports | processes left | ports left | "
          "all gone after (s)")  # fmt: skip
    print("--- | --- | --- | --- | --- | ---")
    leaks = 0
    for at in moments:
        with tempfile.TemporaryDirectory(prefix="fracas-leaks-") as tmp:
            procs, ports, left, open_ports, took = one(at, args.grace, Path(tmp))
        leaks += left + open_ports
        print(f"{at:g} | {procs} | {ports} | {left} | {open_ports} | {took:.1f}", flush=True)
    print(f"{args.times} kills, {leaks} processes and ports left in all")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
