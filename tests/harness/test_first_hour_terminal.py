"""The terminal a newcomer meets (issue #10.3 and #10.6): one short message for a
mistyped orchestrator, `--version`, help that names what each command reads, one meaning
for FRACAS_PROFILE, progress on long runs, and `fracas serve` saying where it listens."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fracas.harness.kit.net import free_port
from fracas.harness.kit.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]


def fracas(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FRACAS, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})


@pytest.mark.parametrize("orchestrator", ["pyhton examples/naive_orchestrator.py",
                                          "python examples/naive_orchestrater.py",
                                          "/no/such/orchestrator --port 1"])
def test_a_mistyped_orchestrator_is_at_most_ten_lines(tmp_path: Path, orchestrator: str) -> None:
    done = fracas("run", "--orchestrator", orchestrator, "--report", str(tmp_path / "r"))
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2
    assert 1 <= len(lines) <= 10, lines
    assert "orchestrator command" in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()  # nothing was started


def test_an_unusable_fault_backend_is_caught_before_pytest(tmp_path: Path) -> None:
    done = fracas("run", "--fault-backend", "url", "--report", str(tmp_path / "r"),
                  TOXIPROXY_URL="")
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2 and len(lines) <= 10, lines
    assert "fault backend cannot start" in done.stderr and "TOXIPROXY_URL" in done.stderr


def test_version() -> None:
    from fracas.harness.kit.version import fracas_version

    done = fracas("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"fracas {fracas_version()}"


@pytest.mark.parametrize("command", ["run", "replay", "up"])
def test_help_names_the_environment_and_the_pyproject_table(command: str) -> None:
    from fracas.harness.adapters.select import ENV_VARS

    text = " ".join(fracas(command, "--help").stdout.split())
    for var in (*ENV_VARS, "FRACAS_FAULT_BACKEND"):
        assert var in text, (command, var)
    assert "[tool.fracas.orchestrator]" in text
    for option in ("--orchestrator-capabilities", "--orchestrator-clock",
                   "--orchestrator-start-timeout"):
        assert option in text


def test_serve_help_says_it_reads_nothing_else() -> None:
    text = " ".join(fracas("serve", "--help").stdout.split())
    assert "no environment variables and no pyproject.toml table" in text


def test_fracas_profile_means_the_same_for_fracas_run(tmp_path: Path) -> None:
    done = fracas("run", "-k", "no_scenario_matches_this", "--report", str(tmp_path / "r"),
                  FRACAS_PROFILE="dev")
    assert "hypothesis profile 'dev'" in done.stdout, done.stdout[-2000:]
    bad = fracas("run", FRACAS_PROFILE="nightly")
    assert bad.returncode == 2 and "FRACAS_PROFILE: expected one of ci, dev, soak" in bad.stderr
    plain = subprocess.run([sys.executable, "-m", "pytest", "scenarios", "--co", "-q", "-p",
                            "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120, env={**os.environ, "FRACAS_PROFILE": "nightly"})
    assert "FRACAS_PROFILE: expected one of ci, dev, soak" in plain.stderr + plain.stdout


def test_serve_prints_where_it_listens_and_stops_with_a_line(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([*FRACAS, "serve", "crm", "--port", str(port), "--state-dir",
                             str(tmp_path / "crm")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"crm listening on http://127.0.0.1:{port}" in first
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert rest.strip().splitlines()[-1] == "fracas: crm stopped"


PROGRESS_SCENARIO = '''
def test_three_runs(fracas):
    for _ in range(3):
        fracas.run(fracas.orders(1), [], settle_seconds=10).assert_consistent()
'''


def _pytest_on_a_tty(cwd: Path, env: dict[str, str]) -> str:
    """pytest's output when its stdout is a terminal (a pseudo-terminal here)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "test_progress.py", "-p",
                             "no:cacheprovider", "--rootdir", str(cwd)], cwd=cwd,
                            stdout=slave, stderr=slave, env={**os.environ, **env})
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 300

    def drained() -> bool:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                return True
            if not data:
                return True
            chunks.append(data)
        return proc.poll() is not None and not ready

    try:
        wait_until(drained, deadline - time.monotonic(), interval=0.0, what="pytest output")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return b"".join(chunks).decode(errors="replace")


def test_long_profiles_show_progress_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "test_progress.py").write_text(PROGRESS_SCENARIO)
    out = _pytest_on_a_tty(tmp_path, {"FRACAS_PROFILE": "dev"})
    assert "fracas: 3 examples done, 0 violations so far" in out, out[-2000:]
    assert "elapsed" in out
    quiet = _pytest_on_a_tty(tmp_path, {"FRACAS_PROFILE": "ci"})
    assert "examples done" not in quiet and "1 passed" in quiet


def test_the_start_timeout_option_reaches_the_orchestrator(tmp_path: Path) -> None:
    sleeper = "python -c 'import time; time.sleep(120)'"
    t0 = time.monotonic()
    done = fracas("up", "--orchestrator", sleeper, "--orchestrator-start-timeout", "1.5",
                  "--state-dir", str(tmp_path / "up"))
    assert done.returncode == 1
    assert "never became healthy at" in done.stderr, done.stderr[-2000:]
    assert "within 1.5s" in done.stderr
    assert time.monotonic() - t0 < 25


def test_plain_pytest_with_a_mistyped_orchestrator_is_one_short_message(tmp_path: Path) -> None:
    """The same check under plain pytest: before the session header, one error line."""
    (tmp_path / "test_x.py").write_text("def test_x(fracas):\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_x.py", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "--orchestrator", "pyhton examples/naive_orchestrator.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 4, lines  # pytest's usage error
    assert 1 <= len(lines) <= 10, lines
    assert "orchestrator command" in lines[0] and "Traceback" not in done.stderr, lines
