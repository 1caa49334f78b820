"""``fracas serve`` and ``fracas up`` as a user runs them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fracas.harness.kit.net import free_port, is_listening
from fracas.harness.kit.procs import ManagedProcess, wait_exit
from fracas.harness.kit.waiting import wait_until
from fracas.harness.run.services import SERVICES

FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["serve", "payment", "--port", "abc", "--state-dir", "x"], "--port"),
        (["serve", "payment", "--port", "70000", "--state-dir", "x"], "--port"),
        (["serve", "bank", "--port", "1", "--state-dir", "x"], "name"),
        (["serve", "payment", "--port", "8000"], "--state-dir"),
        (["serve", "payment", "--port", "8000", "--state-dir", "x", "--seed", "-1"], "--seed"),
        (["up", "--base-port", "x"], "--base-port"),
        (["up", "--seed", "many"], "--seed"),
        (["launch"], "COMMAND"),
    ],
)
def test_bad_input_exits_2_naming_the_field(args: list[str], named: str) -> None:
    done = subprocess.run(FRACAS + args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert named in done.stderr
    assert "Traceback" not in done.stderr


def test_state_dir_that_is_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "f"
    afile.write_text("")
    done = subprocess.run(
        FRACAS + ["serve", "crm", "--port", str(free_port()), "--state-dir", str(afile)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "--state-dir" in done.stderr


def test_serve_runs_one_fake(tmp_path: Path) -> None:
    port = free_port()
    argv = FRACAS + [
        "serve",
        "notify",
        "--port",
        str(port),
        "--state-dir",
        str(tmp_path),
        "--seed",
        "3",
    ]
    proc = ManagedProcess("serve", argv, tmp_path / "serve.log").start()
    try:
        proc.wait_healthy(
            lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200, 30
        )
        assert httpx.get(f"http://127.0.0.1:{port}/_fracas/state").json()["seed"] == 3
    finally:
        proc.stop()
    assert proc.returncode is not None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_up_starts_all_five_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "up.log"
    argv = FRACAS + ["up", "--fakes-only", "--state-dir", str(tmp_path / "state"), "--seed", "5"]
    proc = ManagedProcess("up", argv, log).start()
    try:
        wait_until(lambda: "fakes up" in log.read_text(), 60, what="fracas up ready")
        urls = dict(
            line.split()
            for line in log.read_text().splitlines()
            if line.split()[:1] in [[s] for s in SERVICES]
        )
        assert set(urls) == set(SERVICES)
        for url in urls.values():
            assert httpx.get(f"{url}/healthz").status_code == 200
        proc.signal(sig)
        assert wait_exit(proc, 30) == 0
        ports = [int(url.rsplit(":", 1)[1]) for url in urls.values()]
        wait_until(lambda: not any(is_listening(p) for p in ports), 10, what="fakes stopped")
        assert "stopped" in log.read_text()
    finally:
        proc.stop()
