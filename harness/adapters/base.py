"""The adapter protocol: what the harness asks of any orchestrator under test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from fracas.harness.kit.procs import ProcessHandle

#: Capabilities an adapter may declare. Scenarios that need one an adapter lacks are
#: skipped with a message naming it, rather than failing.
CAPABILITIES = frozenset({"crash", "restart", "pause", "review", "advance_clock"})
#: How long an orchestrator that declares nothing is taken to wait on one call before
#: it gives up (seconds): real HTTP clients use 5 to 30 s.
DEFAULT_CALL_TIMEOUT = 5.0


def call_timeout(adapter: Any) -> float:
    """How long ``adapter``'s orchestrator waits on one call to a service before it
    gives up (declared ``call_timeout``, else ``DEFAULT_CALL_TIMEOUT``). The one place
    to read it: the search draws waits past it, and a stuck order's quiet period is
    counted from it."""
    value = getattr(adapter, "call_timeout", None)
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_CALL_TIMEOUT


class AdapterError(RuntimeError):
    """The orchestrator could not be started, or broke the HTTP contract.

    The harness catches this family only: an adapter turns its transport's errors (httpx,
    grpc, a CLI's exit code) into one of these, so the harness never learns what an
    adapter speaks. Any other exception out of an adapter is a bug in it and stops the run.
    """


class OrchestratorUnreachable(AdapterError):
    """No answer: connection refused or reset, a timeout. The orchestrator may be down
    (a crash fault), so the harness records the call's outcome as unknown and goes on."""


class PortTaken(AdapterError):
    """Another process listens on the port the orchestrator was given: the topology
    starts it on another port (free_port can only say a port *was* free)."""


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


@dataclass(frozen=True)
class ReviewResult:
    """What ``POST /orders/{id}/review`` answered: the status and the body (the order, or
    a problem). The body is kept because a refusal is judged by what it says too: the
    history records every input with its whole answer (contract, "Inputs")."""

    status_code: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status_code < 300


@runtime_checkable
class OrchestratorAdapter(Protocol):
    """Start, fault and talk to one orchestrator: the only thing the topology, the
    nemesis and the runner know of it. All calls are synchronous and bounded. Errors are
    ``AdapterError``s (``OrchestratorUnreachable`` when there was no answer)."""

    name: str
    capabilities: frozenset[str]
    #: What reports and replay files call it (a command line, "bundled orchestrator").
    description: str
    #: It calls no service while it starts on an empty state dir, so the topology may
    #: ``prestart`` the next run's copy while the fakes still serve this run.
    quiet_start: bool

    @property
    def url(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    @property
    def process(self) -> ProcessHandle | None:
        """The running orchestrator's process, which the process faults (kill, pause,
        restart) and the topology act on; None before start, or when the adapter cannot
        fault it (then declare no crash, restart or pause capability)."""

    def start(self, env: OrchestratorEnv, timeout: float = 20.0) -> None:
        """Start on `env` and return once healthy; raise PortTaken when another process
        holds env's port, another AdapterError when it never becomes healthy."""

    def prestart(self, env: OrchestratorEnv) -> None:
        """Boot a spare copy on `env` that a later ``start(env)`` adopts; only called
        when ``quiet_start``. An adapter without spares raises AdapterError."""

    def stop(self) -> None: ...

    def crash(self) -> None:
        """SIGKILL: a real crash, no shutdown handler runs."""

    def restart(self, timeout: float = 20.0) -> None:
        """Start again after a crash or stop, on the same state dir and port."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def healthy(self) -> bool:
        """GET /healthz answered 200; False on any error (never raises)."""

    def submit(self, order: dict[str, Any]) -> SubmitResult:
        """POST /orders; no answer is a SubmitResult with status_code None (never raises)."""

    def status(self, order_id: str) -> dict[str, Any] | None:
        """The order as the orchestrator reports it, or None when it says 404."""

    def review(self, order_id: str, decision: str) -> ReviewResult:
        """POST the review decision; its status and body (OrchestratorUnreachable: no
        answer)."""

    def advance_clock(self, seconds: float) -> None: ...
