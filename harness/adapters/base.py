"""The adapter protocol: what the harness asks of any orchestrator under test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: Capabilities an adapter may declare. Scenarios that need one an adapter lacks are
#: skipped with a message naming it, rather than failing.
CAPABILITIES = frozenset({"crash", "restart", "pause", "review", "advance_clock"})


class AdapterError(RuntimeError):
    """The orchestrator could not be started, or broke the HTTP contract."""


@dataclass(frozen=True)
class OrchestratorEnv:
    """Everything the contract (§1) hands an orchestrator at start."""

    service_urls: dict[str, str]
    listen_host: str
    listen_port: int
    state_dir: Path
    log_path: Path

    def as_environ(self) -> dict[str, str]:
        env = {f"FRACAS_{name.upper()}_URL": url for name, url in self.service_urls.items()}
        env["FRACAS_LISTEN"] = f"{self.listen_host}:{self.listen_port}"
        env["FRACAS_STATE_DIR"] = str(self.state_dir)
        return env

    @property
    def url(self) -> str:
        return f"http://{self.listen_host}:{self.listen_port}"


@dataclass
class SubmitResult:
    """What POST /orders answered; `status_code` None means no answer (transport error)."""

    status_code: int | None
    body: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status_code in (200, 201, 202)


@runtime_checkable
class OrchestratorAdapter(Protocol):
    """Start, fault and talk to one orchestrator. All calls are synchronous and bounded."""

    name: str
    capabilities: frozenset[str]

    @property
    def url(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self, env: OrchestratorEnv, timeout: float = 20.0) -> None: ...

    def stop(self) -> None: ...

    def crash(self) -> None:
        """SIGKILL: a real crash, no shutdown handler runs."""

    def restart(self, timeout: float = 20.0) -> None:
        """Start again after a crash or stop, on the same state dir and port."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def healthy(self) -> bool: ...

    def submit(self, order: dict[str, Any]) -> SubmitResult: ...

    def status(self, order_id: str) -> dict[str, Any] | None:
        """The order as the orchestrator reports it, or None when it says 404."""

    def review(self, order_id: str, decision: str) -> int:
        """POST the review decision; returns the HTTP status."""

    def advance_clock(self, seconds: float) -> None: ...
