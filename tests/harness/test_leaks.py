"""Nothing leaks: a scenario run interrupted by Ctrl-C, or whose pytest is SIGKILLed in
the middle, leaves no fracas process and no listening port behind; also with two xdist
workers, each with its own topology (Ctrl-C reaches the whole process group, as a
terminal sends it; SIGKILL hits one worker, whose topology must go while the other's
lives, then the controller). Checked from the process table
and the sockets, not assumed."""

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
from fracas.harness.kit.proctable import alive, descendants
from fracas.harness.kit.waiting import wait_until

SCENARIO = textwrap.dedent(
    """
    import json, os, time
    from pathlib import Path

    from fracas.harness.run.runner import run

    def long_run(fracas):
        topo = fracas.topology
        ports = [f.port for f in topo.fakes.values()]
        ports += [int(u.rsplit(":", 1)[1]) for u in topo.proxy_urls.values()]
        ports += [int(topo.orchestrator.url.rsplit(":", 1)[1])]
        ports += [int(topo.backend.base_url.rsplit(":", 1)[1])]
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        marker = Path(os.environ["FRACAS_TEST_MARKER"]) / f"{worker}.json"
        # Written whole, then renamed: the test polls for it and must never read it half-written.
        partial = marker.with_suffix(".partial")
        partial.write_text(json.dumps({"ports": ports, "pid": os.getpid()}))
        partial.rename(marker)
        latency = {"kind": "latency", "target": "payment", "params": {"latency_ms": 50}}
        # No reset: it would restart the orchestrator on a new port after the marker. Runs
        # one after another for two minutes, so the signal always lands mid-session (one
        # run alone ends once its three orders are done, sometimes before the signal).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            run(topo, fracas.orders(3), [{"fault": latency, "at": 0, "for": 120}], reset=False)

    def test_long_run_a(fracas):
        long_run(fracas)

    def test_long_run_b(fracas):  # with -n 2, the other worker's (load scheduling)
        long_run(fracas)
    """
)


def crash_one_worker(markers: Path) -> None:
    """SIGKILL one xdist worker mid-run: its topology dies with it, the other's lives."""
    crashed, other = (json.loads(m.read_text()) for m in sorted(markers.glob("*.json")))
    children = descendants(crashed["pid"])
    assert len(children) >= 7, children
    os.kill(crashed["pid"], signal.SIGKILL)
    wait_until(lambda: not any(alive(pid) for pid in children), 30,
               what="every child of the crashed worker gone")
    wait_until(lambda: not any(is_listening(p) for p in crashed["ports"]), 30,
               what="every port of the crashed worker closed")
    assert all(is_listening(p) for p in other["ports"])  # the other topology goes on


#: pytest with Ctrl-C's KeyboardInterrupt back, as a terminal's shell starts it. Run from
#: a background job (``cmd &``, nohup), this suite inherits SIGINT ignored and passes it
#: on: the inner pytest ignored the Ctrl-C and ran its two minutes out (twice, in runs
#: started that way). Its xdist workers get the default back at exec.
PYTEST_WITH_CTRL_C = (
    "import signal, sys, pytest; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.exit(pytest.console_main())"
)

#: Seconds an interrupted pytest may take to exit (it passes as soon as it does).
EXIT_WITHIN = 240


@pytest.mark.parametrize("workers", [0, 2], ids=["one-process", "xdist-2"])
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_interrupted_run_leaves_nothing(tmp_path: Path, how: signal.Signals, workers: int) -> None:
    (tmp_path / "test_long.py").write_text(SCENARIO)
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {**os.environ, "FRACAS_TEST_MARKER": str(markers)}
    select = ["-n", str(workers)] if workers else ["-k", "long_run_a"]
    proc = subprocess.Popen(
        [sys.executable, "-c", PYTEST_WITH_CTRL_C, str(tmp_path / "test_long.py"), "-q", *select,
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         "--fracas-report", str(tmp_path / "report")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
        start_new_session=True,  # its own process group, as a shell job has
    )
    topologies = max(1, workers)
    try:
        wait_until(lambda: len(list(markers.glob("*.json"))) == topologies, 90,
                   what=f"{topologies} topologies up and their workloads started")
        ports = [p for m in markers.glob("*.json") for p in json.loads(m.read_text())["ports"]]
        assert len(set(ports)) == len(ports), ports  # no two topologies share a port
        children = descendants(proc.pid)
        # 5 fakes, the proxy server, the orchestrator: per topology (plus the workers)
        assert len(children) >= 7 * topologies, children
        assert all(is_listening(p) for p in ports)
        if workers and how == signal.SIGKILL:
            crash_one_worker(markers)
        if how == signal.SIGINT:
            os.killpg(proc.pid, how)  # a terminal's Ctrl-C: the whole foreground group
        else:
            proc.send_signal(how)
        # A deadline, not a pause: under a busy CI machine (load 14 on 2 cores) an
        # interrupted pytest took over 60 s to stop its topology and write its report.
        proc.wait(EXIT_WITHIN)
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

