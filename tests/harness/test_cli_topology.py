"""`fracas up` starts the whole topology and stops it cleanly; bad arguments get a clear
message naming the argument and exit 2, never a traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fracas.harness.kit.net import is_listening
from fracas.harness.kit.procs import ManagedProcess, wait_exit
from fracas.harness.kit.waiting import wait_until

FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]


def test_up_starts_everything_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    proc = ManagedProcess("up", [*FRACAS, "up", "--state-dir", str(tmp_path / "s")], log).start()
    try:
        wait_until(lambda: "fracas: up in" in log.read_text(), 60, what="fracas up ready")
        urls = {}
        for line in log.read_text().splitlines():
            if "http://" in line:
                name, url = line.rsplit(None, 1)
                urls[name.strip()] = url
        assert httpx.get(f"{urls['orchestrator']}/healthz").status_code == 200
        customer = httpx.get(f"{urls['crm']}/customers/cus-0001")  # through the proxy
        assert customer.status_code == 200 and customer.json()["customer_id"] == "cus-0001"
        assert httpx.get(f"{urls['toxiproxy']}/proxies").json().keys() >= {"crm", "payment"}
        ports = [int(u.rsplit(":", 1)[1]) for u in urls.values()]
        proc.signal(signal.SIGINT)
        assert wait_exit(proc, 30) == 0
        wait_until(lambda: not any(is_listening(p) for p in ports), 10, what="all ports closed")
        assert "fracas: stopped" in log.read_text()
    finally:
        proc.kill()


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["run", "--profile", "forever"], "--profile"),
        (["run", "--seed", "-1"], "--seed"),
        (["replay", "x.json", "--times", "0"], "--times"),
        (["up", "--base-port", "9000"], "--base-port"),
        (["up", "--fault-backend", "cloud"], "--fault-backend"),
        (["up", "--orchestrator", "python -c 'oops"], "cannot split"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, argv: list[str], names: str) -> None:
    done = subprocess.run([*FRACAS, *argv], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert names in done.stderr
    assert "Traceback" not in done.stderr
