"""ManagedProcess: the fault verbs work on real processes, and children never outlive
the harness, whether it exits, is terminated or is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fracas.harness.kit.procs import ManagedProcess, ProcessFailed
from fracas.harness.kit.waiting import wait_until

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"]


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def proc_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]


def test_kill_pause_resume_restart(tmp_path: Path) -> None:
    p = ManagedProcess("sleeper", SLEEPER, tmp_path / "sleeper.log").start()
    try:
        first = p.pid
        assert first is not None and p.alive
        wait_until(lambda: "up" in p.log_tail(), 10, what="child printed")

        p.pause()
        wait_until(lambda: proc_state(first) == "T", 5, what="stopped state")
        p.resume()
        wait_until(lambda: proc_state(first) != "T", 5, what="running again")

        p.restart()
        assert p.pid != first and p.alive
        assert not pid_exists(first)
        assert p.starts == 2
        assert p.log_path.read_text().count("--- fracas: start") == 2
        assert p.log_tail().startswith("--- fracas: start #2")  # this start's own lines
    finally:
        p.kill()
    assert not p.alive
    assert p.returncode == -signal.SIGKILL


def test_stop_terminates_a_paused_process(tmp_path: Path) -> None:
    p = ManagedProcess("sleeper", SLEEPER, tmp_path / "s.log").start()
    p.pause()
    p.stop(timeout=5)
    assert not p.alive


def test_wait_healthy_reports_exit_with_log_tail(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('boom: bad config'); sys.exit(3)"]
    p = ManagedProcess("broken", argv, tmp_path / "broken.log").start()
    with pytest.raises(ProcessFailed) as info:
        p.wait_healthy(lambda: False, timeout=10)
    assert "exited with 3" in str(info.value)
    assert "boom: bad config" in str(info.value)


def test_wait_healthy_times_out_with_log_tail(tmp_path: Path) -> None:
    p = ManagedProcess("slow", SLEEPER, tmp_path / "slow.log").start()
    try:
        with pytest.raises(ProcessFailed) as info:
            p.wait_healthy(lambda: False, timeout=0.5)
        assert "not healthy within 0.5s" in str(info.value)
    finally:
        p.kill()


PARENT = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    from fracas.harness.kit.procs import ManagedProcess
    # As a harness started from a terminal: under nohup (how a CI job may start pytest)
    # SIGHUP comes ignored, the harness keeps it so, and the parent would not die of it.
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    p = ManagedProcess("child", [sys.executable, "-c", "import time; time.sleep(600)"],
                       Path(sys.argv[1]))
    p.start()
    print(p.pid, flush=True)
    time.sleep(600)
    """
)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_children_die_with_the_harness(tmp_path: Path, how: signal.Signals) -> None:
    """However the parent dies, even by SIGKILL, its managed children go with it."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "child.log")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        assert pid_exists(child_pid)
        parent.send_signal(how)
        parent.wait(60)  # a deadline, not a pause
        wait_until(lambda: not pid_exists(child_pid), 60, what="child gone")
    finally:
        parent.kill()
        parent.wait()


def test_child_started_from_a_finished_thread_lives_on(tmp_path: Path) -> None:
    """PDEATHSIG follows the forking thread; a restart from a worker must survive it."""
    import threading

    p = ManagedProcess("sleeper", SLEEPER, tmp_path / "t.log")
    worker = threading.Thread(target=p.start)
    worker.start()
    worker.join()
    try:
        wait_until(lambda: "up" in p.log_tail(), 10, what="child printed")
        assert p.alive
    finally:
        p.kill()


def test_orchestrator_that_never_gets_healthy_is_named_with_its_log(tmp_path: Path) -> None:
    from fracas.harness.adapters import AdapterError, OrchestratorEnv, ProcessAdapter

    adapter = ProcessAdapter(["python", "-c", "import sys; print('cannot bind: no config'); "
                              "sys.exit(4)"])
    env = OrchestratorEnv({}, "127.0.0.1", 1, tmp_path / "state", tmp_path / "orch.log")
    with pytest.raises(AdapterError) as info:
        adapter.start(env, timeout=10)
    text = str(info.value)
    assert "never became healthy" in text and "exited with 4" in text
    assert "cannot bind: no config" in text and "GET /healthz" in text
