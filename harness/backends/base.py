"""What every fault-proxy backend shares: start, stop, a client, and cleanup on exit."""

from __future__ import annotations

import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self, TypeVar

from fracas.harness.kit.net import LOOPBACK, free_port
from fracas.harness.kit.procs import ManagedProcess, ProcessFailed
from fracas.harness.kit.toxiclient import ToxiClient


class BackendError(RuntimeError):
    """A backend cannot be chosen or started; the message says what to do instead."""


@dataclass(frozen=True)
class BackendOptions:
    """Everything ``make_backend`` knows when it builds the chosen backend."""

    seed: int
    log_dir: Path | None
    #: ``TOXIPROXY_URL`` or the ``url`` argument, "" when unset
    url: str
    env: Mapping[str, str]
    #: where the choice came from ("backend" or the env variable), for error messages
    source: str


class FaultBackend(ABC):
    """A Toxiproxy-compatible server fracas can put every fake behind.

    ``start()`` returns the API's base URL; ``stop()`` leaves nothing of ours behind (a
    process we started is gone; on a server we do not own, every proxy we created is
    deleted). Both are idempotent, and the backend is a context manager.
    """

    name: ClassVar[str]
    #: place in the list of backends users see (the default first)
    rank: ClassVar[int] = 100
    #: Whether its proxies have fracas's NATS-aware toxics (message faults need them);
    #: a real Toxiproxy moves bytes only.
    reads_nats: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def configured(cls, options: BackendOptions) -> FaultBackend:
        """The backend as ``make_backend`` builds it from config and environment."""

    def __init__(self) -> None:
        self.base_url: str | None = None
        self._client: ToxiClient | None = None

    @abstractmethod
    def _start(self) -> str: ...

    @abstractmethod
    def _stop(self) -> None: ...

    def start(self) -> str:
        if self.base_url is None:
            self.base_url = self._start()
        return self.base_url

    def stop(self) -> None:
        if self.base_url is None:
            return
        try:
            self._cleanup()
        finally:
            if self._client is not None:
                self._client.close()
                self._client = None
            try:
                self._stop()
            finally:
                self.base_url = None

    def _cleanup(self) -> None:
        """Undo what fracas did on the server before it is stopped (or left running)."""
        return None

    def died(self) -> int | None:
        """The exit code of a server fracas started that has died since (None: running,
        or not fracas's to watch)."""
        return None

    def revive(self) -> None:
        """Start a server that ``died()`` again on its port (empty: no proxies)."""
        raise BackendError(f"{self.name} backend: fracas did not start this server")

    @property
    def client(self) -> ToxiClient:
        """The client fracas uses for this server; it records the proxies it creates."""
        if self.base_url is None:
            raise BackendError(f"{self.name} backend: not started; call start() first")
        if self._client is None:
            self._client = ToxiClient(self.base_url)
        return self._client

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url or 'stopped'}>"


class ProcessBackend(FaultBackend):
    """A server the harness starts as a ManagedProcess on a free loopback port."""

    #: A port can be taken between choosing it and the child binding it; try again.
    attempts: ClassVar[int] = 3

    def __init__(
        self, seed: int = 0, log_dir: Path | None = None, start_timeout: float = 15.0
    ) -> None:
        super().__init__()
        self.seed = seed
        self.start_timeout = start_timeout
        self._own_log_dir = log_dir is None
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.process: ManagedProcess | None = None

    @abstractmethod
    def argv(self, port: int) -> Sequence[str]: ...

    def _start(self) -> str:
        if self.log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix=f"fracas-{self.name}-"))
        last: ProcessFailed | None = None
        for _ in range(self.attempts):
            port = free_port()
            url = f"http://{LOOPBACK}:{port}"
            proc = ManagedProcess(
                f"toxiproxy-{self.name}", self.argv(port), self.log_dir / "toxiproxy.log"
            )
            proc.start()
            probe = ToxiClient(url, timeout=0.5)
            try:
                proc.wait_healthy(probe.is_up, self.start_timeout)
            except ProcessFailed as exc:
                proc.kill()
                last = exc
                continue
            finally:
                probe.close()
            self.process = proc
            return url
        if self._own_log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)  # the error carries the log tail
            self.log_dir = None
        raise BackendError(f"{self.name} backend: server did not start: {last}")

    def died(self) -> int | None:
        proc = self.process
        return None if proc is None or proc.alive else proc.returncode

    def revive(self) -> None:
        """The same command on the same port, so every proxy's clients (the orchestrator
        is pointed at the proxies' ports) find it again once the proxies are back."""
        proc, url = self.process, self.base_url
        if proc is None or url is None or proc.alive:
            return
        proc.start()
        probe = ToxiClient(url, timeout=0.5)
        try:
            proc.wait_healthy(probe.is_up, self.start_timeout)
        finally:
            probe.close()

    def _stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
        if self._own_log_dir and self.log_dir is not None:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            self.log_dir = None


_B = TypeVar("_B", bound=type[FaultBackend])
REGISTRY: dict[str, type[FaultBackend]] = {}


def register(cls: _B) -> _B:
    """Class decorator: one backend per module of ``fracas.harness.backends``, found by a scan
    (as toxics and checker rules are), so a new backend is one new file."""
    if REGISTRY.get(cls.name, cls) is not cls:
        raise TypeError(f"backend {cls.name!r} is registered twice")
    REGISTRY[cls.name] = cls
    return cls
