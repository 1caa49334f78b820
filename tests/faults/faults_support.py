"""Helpers for the fault tests (imported by the conftest and the tests; not fixtures)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from fracas.harness.kit.net import LOOPBACK, free_port
from fracas.harness.kit.procs import ManagedProcess, python_argv


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=0.5, trust_env=False).status_code < 500
        except httpx.HTTPError:
            return False

    return check


@dataclass
class Upstream:
    """A tiny real HTTP server process (``python -m http.server``)."""

    process: ManagedProcess
    port: int
    root: Path

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def healthy(self) -> bool:
        return http_ok(self.url + "/")()


def start_upstream(tmp: Path, name: str = "upstream") -> Upstream:
    root = tmp / name
    root.mkdir(parents=True, exist_ok=True)
    (root / "hello.txt").write_text("hello from " + name)
    (root / "big.bin").write_bytes(b"x" * 200_000)
    port = free_port()
    proc = ManagedProcess(
        name,
        python_argv("http.server", "--bind", LOOPBACK, "--directory", str(root), str(port)),
        tmp / f"{name}.log",
    ).start()
    up = Upstream(proc, port, root)
    proc.wait_healthy(up.healthy, 15)
    return up


def our_children() -> set[int]:
    """Live (non-zombie) child pids of this test process."""
    me = os.getpid()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == me and fields[0] != "Z":
            found.add(int(entry))
    return found


def proc_state(pid: int | None) -> str:
    assert pid is not None
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
