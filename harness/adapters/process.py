"""Any orchestrator that implements the HTTP contract, run from a command line."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from fracas.harness.adapters.base import (
    AdapterError,
    OrchestratorEnv,
    OrchestratorUnreachable,
    PortTaken,
    ReviewResult,
    SubmitResult,
)
from fracas.harness.adapters.command import check_command
from fracas.harness.kit.net import is_listening, listener_in_session, says_port_lost
from fracas.harness.kit.procs import ManagedProcess, ProcessFailed

DEFAULT_CAPABILITIES = frozenset({"crash", "restart", "pause", "review"})

__all__ = ["DEFAULT_CAPABILITIES", "PortTaken", "ProcessAdapter"]


class ProcessAdapter:
    """Runs `argv` with the contract's FRACAS_* environment and speaks HTTP to it.

    `clock_path`, when given, is the admin endpoint that advances the orchestrator's
    clock (``POST {"seconds": N}``); the adapter then has ``advance_clock``.
    """

    def __init__(
        self,
        argv: Sequence[str],
        name: str = "orchestrator",
        health_path: str = "/healthz",
        clock_path: str | None = None,
        env: Mapping[str, str] | None = None,
        capabilities: frozenset[str] | None = None,
        request_timeout: float = 5.0,
        cwd: str | None = None,
        quiet_start: bool = False,
        call_timeout: float | None = None,
    ) -> None:
        if not argv:
            raise AdapterError("orchestrator command is empty; give the command that starts it")
        self.argv = list(argv)
        if self.argv[0] in ("python", "python3"):
            # "python" means the interpreter fracas runs under, venv and all.
            self.argv[0] = sys.executable
        self.name = name
        self.health_path = health_path
        self.clock_path = clock_path
        self.extra_env = dict(env or {})
        #: Where the command runs (relative paths in it resolve here); None = fracas's cwd.
        self.cwd = cwd
        caps = set(capabilities if capabilities is not None else DEFAULT_CAPABILITIES)
        if clock_path:
            caps.add("advance_clock")
        self.capabilities = frozenset(caps)
        #: What reports call it: the command line, or "bundled orchestrator".
        self.description = " ".join(self.argv)
        #: It calls no service while starting on an empty state dir, so a copy may boot
        #: ahead, during another run (``prestart``): its start-up cannot touch that
        #: run's fakes. Unknown for an arbitrary command (one may call out at start-up,
        #: e.g. a probe payment), so off unless declared.
        self.quiet_start = quiet_start
        #: How long it waits on one call before it gives up (``base.call_timeout``).
        self.call_timeout = call_timeout
        self._timeout = request_timeout
        self._env: OrchestratorEnv | None = None
        self._proc: ManagedProcess | None = None
        self._http: httpx.Client | None = None
        #: Copies started ahead of time, each on its own env (prestart); start(env)
        #: adopts the one started on that env.
        self._spares: list[tuple[OrchestratorEnv, ManagedProcess]] = []

    # -- process ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._env is None:
            raise AdapterError(f"{self.name} has not been started")
        return self._env.url

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def process(self) -> ManagedProcess | None:
        return self._proc

    def _spawn(self, env: OrchestratorEnv) -> ManagedProcess:
        if is_listening(env.listen_port, env.listen_host):
            raise PortTaken(f"port {env.listen_port} is already taken by another process")
        check_command(self.argv, self.cwd)
        environ = {**os.environ, **self.extra_env, **env.as_environ()}
        cwd = Path(self.cwd) if self.cwd else None
        return ManagedProcess(self.name, self.argv, env.log_path, env=environ, cwd=cwd).start()

    def prestart(self, env: OrchestratorEnv) -> None:
        """Start a spare copy on `env` (its own port and empty state dir) now, so that a
        later ``start(env)`` only switches to it: between two examples the next
        orchestrator has already done its start-up while the last examples ran. Only
        for a ``quiet_start`` orchestrator (see there)."""
        if not self.quiet_start:
            raise AdapterError(f"{self.name} is not declared quiet at start-up: no spare")
        old = self._take_spare(env)  # a spare already on this env is replaced
        if old is not None:
            old.kill()
        self._spares.append((env, self._spawn(env)))

    def _take_spare(self, env: OrchestratorEnv) -> ManagedProcess | None:
        """The spare started on `env`, alive, no longer a spare (None: there is none)."""
        for i, (spare_env, proc) in enumerate(self._spares):
            if spare_env == env:
                del self._spares[i]
                if proc.alive:
                    return proc
                proc.kill()  # reaps it
                return None
        return None

    def _drop_spares(self) -> None:
        while self._spares:
            self._spares.pop()[1].kill()

    def start(self, env: OrchestratorEnv, timeout: float = 20.0) -> None:
        if self._proc is not None and self._proc.alive:
            raise AdapterError(f"{self.name} is already running; stop or crash it first")
        if self._http is not None:
            self._http.close()
        self._env = env
        self._proc = self._take_spare(env) or self._spawn(env)
        self._http = httpx.Client(base_url=env.url, timeout=self._timeout, trust_env=False)
        self._wait(timeout)

    def _wait(self, timeout: float) -> None:
        assert self._proc is not None
        try:
            self._proc.wait_healthy(self._healthy_child, timeout)
        except ProcessFailed as exc:
            # A port taken by another process means another port: one that listens
            # there now, or one the child's exit names (nobody listening by the time it
            # was seen: one replay run of 125 in a two-at-once bench).
            if self._env is not None and (
                is_listening(self._env.listen_port, self._env.listen_host)
                or says_port_lost(str(exc))
            ):
                raise PortTaken(
                    f"{self.name} exited: another process took its port "
                    f"{self._env.listen_port}:\n{exc}"
                ) from None
            code = self._proc.returncode
            why = f"it exited with {code}" if code is not None else f"within {timeout:g}s"
            raise AdapterError(
                f"orchestrator {' '.join(self.argv)!r} never became healthy at "
                f"{self.url}{self.health_path}: {why}.\n{exc}\n"
                "It must listen on FRACAS_LISTEN and answer GET /healthz with 200 "
                "(docs/contract.md §2); a slow starter can be given more time with "
                "[tool.fracas.orchestrator] start_timeout or --orchestrator-start-timeout."
            ) from None

    def _healthy_child(self) -> bool:
        """Healthy, and the listener on its port is its own: a 200 from a process that
        took the port meanwhile is not the orchestrator's answer."""
        if not self.healthy():
            return False
        assert self._proc is not None and self._env is not None and self._proc.pid
        return listener_in_session(self._env.listen_port, self._proc.pid) is not False

    def stop(self) -> None:
        self._drop_spares()
        if self._proc is not None:
            self._proc.stop()
        if self._http is not None:
            self._http.close()
            self._http = None

    def crash(self) -> None:
        self._require_proc().kill()

    def restart(self, timeout: float = 20.0) -> None:
        proc = self._require_proc()
        proc.kill()
        proc.start()
        if self._http is None and self._env is not None:
            self._http = httpx.Client(
                base_url=self._env.url, timeout=self._timeout, trust_env=False
            )
        self._wait(timeout)

    def pause(self) -> None:
        self._require_proc().pause()

    def resume(self) -> None:
        self._require_proc().resume()

    def _require_proc(self) -> ManagedProcess:
        if self._proc is None:
            raise AdapterError(f"{self.name} has not been started")
        return self._proc

    # -- HTTP contract ---------------------------------------------------------------
    def _client(self) -> httpx.Client:
        if self._http is None:
            raise AdapterError(f"{self.name} has not been started")
        return self._http

    def healthy(self) -> bool:
        if self._http is None:
            return False
        try:
            return self._http.get(self.health_path, timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    def submit(self, order: dict[str, Any]) -> SubmitResult:
        try:
            resp = self._client().post("/orders", json=order)
        except httpx.HTTPError as exc:
            return SubmitResult(None, error=f"{type(exc).__name__}: {exc}")
        return SubmitResult(resp.status_code, _json_object(resp))

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; no answer is OrchestratorUnreachable, so httpx stays in here."""
        try:
            return self._client().request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise OrchestratorUnreachable(
                f"{method} {path} to {self.name}: {type(exc).__name__}: {exc}"
            ) from exc

    def status(self, order_id: str) -> dict[str, Any] | None:
        resp = self._call("GET", f"/orders/{order_id}")
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise AdapterError(
                f"GET /orders/{order_id} answered {resp.status_code}: {resp.text[:200]}"
            )
        body = _json_object(resp)
        if "status" not in body:
            raise AdapterError(
                f"GET /orders/{order_id} answered without a status: {resp.text[:200]}"
            )
        return body

    def review(self, order_id: str, decision: str) -> ReviewResult:
        resp = self._call("POST", f"/orders/{order_id}/review", json={"decision": decision})
        return ReviewResult(resp.status_code, _json_object(resp))

    def advance_clock(self, seconds: float) -> None:
        if not self.clock_path:
            raise AdapterError(
                f"{self.name} cannot advance its clock: give the adapter a clock_path "
                "(the bundled orchestrator's is /_admin/clock/advance with --test-clock)"
            )
        resp = self._call("POST", self.clock_path, json={"seconds": seconds})
        if resp.status_code >= 300:
            raise AdapterError(f"advance_clock answered {resp.status_code}: {resp.text[:200]}")


def _json_object(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {"_raw": resp.text[:500]}
    return body if isinstance(body, dict) else {"_raw": body}
