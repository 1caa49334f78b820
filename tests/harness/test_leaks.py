"""Nothing leaks: a scenario run interrupted by Ctrl-C, or whose pytest is SIGKILLed in
the middle, leaves no fracas process and no listening port behind. Checked from the
process table and the sockets, not assumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fracas.harness.kit.net import is_listening
from fracas.harness.kit.waiting import wait_until

SCENARIO = textwrap.dedent(
    """
    import json, os
    from pathlib import Path

    from fracas.harness.run.runner import run

    def test_long_run(fracas):
        topo = fracas.topology
        ports = [f.port for f in topo.fakes.values()]
        ports += [int(u.rsplit(":", 1)[1]) for u in topo.proxy_urls.values()]
        ports += [int(topo.orchestrator.url.rsplit(":", 1)[1])]
        ports += [int(topo.backend.base_url.rsplit(":", 1)[1])]
        marker = Path(os.environ["FRACAS_TEST_MARKER"])
        # Written whole, then renamed: the test polls for it and must never read it half-written.
        partial = marker.with_suffix(".partial")
        partial.write_text(json.dumps({"ports": ports}))
        partial.rename(marker)
        latency = {"kind": "latency", "target": "payment", "params": {"latency_ms": 50}}
        # No reset: it would restart the orchestrator on a new port after the marker.
        run(topo, fracas.orders(3), [{"fault": latency, "at": 0, "for": 120}], reset=False)
    """
)


def descendants(root: int) -> set[int]:
    """Every live process whose parent chain leads to `root`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_interrupted_run_leaves_nothing(tmp_path: Path, how: signal.Signals) -> None:
    (tmp_path / "test_long.py").write_text(SCENARIO)
    marker = tmp_path / "marker.json"
    env = {**os.environ, "FRACAS_TEST_MARKER": str(marker)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(tmp_path / "test_long.py"), "-q",
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         "--fracas-report", str(tmp_path / "report")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    try:
        wait_until(marker.exists, 60, what="topology up and workload started")
        ports = json.loads(marker.read_text())["ports"]
        children = descendants(proc.pid)
        assert len(children) >= 7, children  # 5 fakes, the proxy server, the orchestrator
        assert all(is_listening(p) for p in ports)
        proc.send_signal(how)
        proc.wait(60)
        wait_until(lambda: not any(alive(pid) for pid in children), 30,
                   what="every child of the interrupted pytest gone")
        wait_until(lambda: not any(is_listening(p) for p in ports), 30,
                   what="every port closed")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    if how == signal.SIGINT:
        assert "KeyboardInterrupt" in out or "Interrupted" in out, out[-2000:]
