"""Starting a fake service as its own process, the one way every part of fracas does it.

The fakes' tests, the bundled orchestrator's tests and the harness topology all start
fakes through ``start_fake`` so there is one place that knows the command line and
what "healthy" means.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from fracas.fakes.contract import BUILTIN_SERVICES, EXIT_PORT_TAKEN
from fracas.harness.kit.net import LOOPBACK, free_port, listener_in_session
from fracas.harness.kit.procs import ManagedProcess, ProcessFailed, python_argv
from fracas.harness.kit.timescale import ENV as TIME_SCALE_ENV

#: Starts on a fresh port before a fake whose port keeps being taken is a failure.
PORT_ATTEMPTS = 3

#: The fakes ``python -m fracas.fakes`` runs, in saga order (the contract states them).
SERVICES: tuple[str, ...] = BUILTIN_SERVICES

#: One client for health probes: building an httpx client costs ~25 ms (its SSL
#: context), more than the probe itself. Loopback only, so no proxies from the env.
_probe = httpx.Client(timeout=0.5, trust_env=False)


class PortTaken(ProcessFailed):
    """The fake exited at start because another process holds its port."""


@dataclass
class FakeProcess:
    """A running fake: its process, address and state directory."""

    name: str
    port: int
    state_dir: Path
    seed: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def healthy(self) -> bool:
        try:
            return _probe.get(f"{self.url}/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def _healthy_own(self) -> bool:
        """Healthy, and the listener on its port is its own: a 200 on /healthz from
        another process that took the port first (another xdist worker's choreography
        participant) passed for the fake, which had exited with its port taken, and the
        run's reset then met that process (a 404 at DELETE /_fracas/faults, one test in
        1,300)."""
        pid = self.process.pid
        return self.healthy() and (pid is None or listener_in_session(self.port, pid) is not False)

    def wait_healthy(self, timeout: float = 15.0) -> FakeProcess:
        """Wait until it answers /healthz; ``PortTaken`` when it exited because another
        process holds its port, ``ProcessFailed`` for any other failure."""
        try:
            self.process.wait_healthy(self._healthy_own, timeout)
        except ProcessFailed as exc:
            if self.process.returncode == EXIT_PORT_TAKEN:
                raise PortTaken(str(exc)) from None
            if self.process.alive:  # still running: it was too slow
                raise ProcessFailed(f"{exc}\n{self._slow_start()}") from None
            raise
        return self

    def _slow_start(self) -> str:
        """Why a fake that is still running is not healthy, in the words a user can act on:
        a port that accepts connections but gets no answer is a stopped or starved process;
        a port nobody listens on yet is a start that has not got that far."""
        try:
            socket.create_connection((LOOPBACK, self.port), timeout=0.5).close()
        except OSError:
            return (
                f"{self.name}: nothing listens on port {self.port} yet, so it is still starting;"
                f" on a slow or busy machine give it longer ({TIME_SCALE_ENV}=2 doubles every"
                " start timeout)"
            )
        return (
            f"{self.name}: port {self.port} accepts connections but GET /healthz got no answer"
            f" in time, so the fake is stopped or starved of CPU ({TIME_SCALE_ENV}=2 doubles"
            " every start timeout)"
        )

    def kill(self) -> None:
        self.process.kill()

    def restart(self, timeout: float = 15.0) -> FakeProcess:
        """SIGKILL then start again on the same port and state dir."""
        self.process.restart(crash=True)
        return self.wait_healthy(timeout)

    def stop(self) -> None:
        self.process.stop()


def fake_argv(name: str, port: int, state_dir: Path, seed: int) -> list[str]:
    return python_argv(
        "fracas.fakes", name, "--port", str(port), "--state-dir", str(state_dir), "--seed", str(seed)
    )


def spawn_fake(
    name: str, state_dir: Path, seed: int = 0, port: int | None = None, log_dir: Path | None = None
) -> FakeProcess:
    """Start a fake without waiting for it (so several can start in parallel)."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; expected one of {', '.join(SERVICES)}")
    port = port or free_port()
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = (log_dir or state_dir) / f"{name}.log"
    proc = ManagedProcess(name, fake_argv(name, port, state_dir, seed), log_path)
    proc.start()
    return FakeProcess(name, port, state_dir, seed, proc)


def start_fake(
    name: str, state_dir: Path, seed: int = 0, port: int | None = None, timeout: float = 15.0
) -> FakeProcess:
    """Start a fake and wait until it answers /healthz (on another port if the one it
    was first given was taken meanwhile, unless `port` was asked for)."""
    fake = spawn_fake(name, state_dir, seed, port)
    if port is not None:
        return fake.wait_healthy(timeout)
    return wait_fakes_healthy({name: fake}, timeout)[name]


def wait_fakes_healthy(fakes: dict[str, FakeProcess], timeout: float = 15.0) -> dict[str, FakeProcess]:
    """Wait for fakes spawned on ports from ``free_port``; one whose port another process
    took between the choice and its bind is started again on a new port (a port is only
    known free until it is released). Returns the healthy fakes, by name."""
    out = dict(fakes)
    with ThreadPoolExecutor(max(1, len(out))) as pool:
        pending = dict(out)
        for _ in range(PORT_ATTEMPTS):
            futures = {n: pool.submit(f.wait_healthy, timeout) for n, f in pending.items()}
            pending = {}
            failures: list[BaseException] = []
            for name, future in futures.items():
                try:
                    future.result()
                except PortTaken:
                    old = out[name]
                    pending[name] = out[name] = spawn_fake(
                        name, old.state_dir, old.seed, log_dir=old.process.log_path.parent
                    )
                except BaseException as exc:  # noqa: BLE001 - re-raised below, after the rest
                    failures.append(exc)
            if failures:
                for fake in out.values():
                    fake.process.kill()
                raise failures[0]
            if not pending:
                return out
    for fake in out.values():
        fake.process.kill()
    raise ProcessFailed(
        f"{', '.join(pending)}: port taken by another process {PORT_ATTEMPTS} times in a row"
    )
