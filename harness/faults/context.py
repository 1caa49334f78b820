"""What a fault needs from the world, and nothing more.

The catalog depends on this protocol rather than on the topology, so faults can be applied
by anything that can answer four questions: which proxy fronts a target, where a fake's
admin API is, which process a target is, and when a restarted target is healthy again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from fracas.harness.kit.procs import ProcessHandle
from fracas.harness.kit.toxiclient import ToxiClient


class FaultError(RuntimeError):
    """A fault could not be applied or healed; says which fault and why."""


@runtime_checkable
class FaultContext(Protocol):
    """The world a fault is applied to."""

    @property
    def toxiproxy(self) -> ToxiClient | None:
        """The client of the fault proxy (None when there is no proxy at all)."""
        ...

    def targets(self) -> Iterable[str]:
        """Every target name, so ``heal_all`` can visit them all."""
        ...

    def proxy_name(self, target: str) -> str | None:
        """The toxiproxy proxy in front of ``target`` (None: it has none)."""
        ...

    def admin_url(self, target: str) -> str | None:
        """Base URL of the fake's admin API (None: not a fake)."""
        ...

    def process(self, target: str) -> ProcessHandle | None:
        """The process of ``target`` (None: not a process fracas started or may fault)."""
        ...

    def wait_healthy(self, target: str) -> None:
        """Return once a (re)started ``target`` serves again; raise if it does not."""
        ...


@dataclass
class SimpleFaultContext:
    """A FaultContext from plain mappings: what tests and small topologies need."""

    toxiproxy: ToxiClient | None = None
    proxies: Mapping[str, str] = field(default_factory=dict)
    admin_urls: Mapping[str, str] = field(default_factory=dict)
    processes: Mapping[str, ProcessHandle] = field(default_factory=dict)
    health: Mapping[str, Callable[[], object]] = field(default_factory=dict)
    health_timeout: float = 15.0

    def targets(self) -> list[str]:
        names = {*self.proxies, *self.admin_urls, *self.processes}
        return sorted(names)

    def proxy_name(self, target: str) -> str | None:
        return self.proxies.get(target)

    def admin_url(self, target: str) -> str | None:
        return self.admin_urls.get(target)

    def process(self, target: str) -> ProcessHandle | None:
        return self.processes.get(target)

    def wait_healthy(self, target: str) -> None:
        proc = self.processes.get(target)
        check = self.health.get(target)
        if proc is not None and check is not None:
            proc.wait_healthy(check, self.health_timeout)
