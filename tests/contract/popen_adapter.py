"""A second orchestrator adapter, written only against the protocol (issue 11.3).

It is not a ``ProcessAdapter`` and shares none of its parts: it launches the bundled
orchestrator with plain ``subprocess.Popen`` behind its own process handle (not a
``ManagedProcess``), and speaks HTTP with the standard library's ``http.client`` (not
httpx). If the topology, the nemesis or the runner reached past the protocol, the crash
scenarios would fail with it (tests/contract/test_second_adapter.py runs them).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import ctypes
import http.client
import json
import os
import signal
import subprocess
from collections.abc import Callable
from typing import Any

from fracas.harness.adapters import (
    AdapterError,
    OrchestratorEnv,
    OrchestratorUnreachable,
    PortTaken,
    ReviewResult,
    SubmitResult,
)
from fracas.harness.adapters.select import BUNDLED_CLOCK_PATH, bundled_argv
from fracas.harness.kit.net import is_listening
from fracas.harness.kit.procs import ProcessFailed
from fracas.harness.kit.waiting import DeadlineExceeded, wait_until

#: Every handle still running; killed at exit, so a failing run leaves nothing behind.
_LIVE: set[PopenHandle] = set()


@atexit.register
def _kill_all() -> None:
    for handle in list(_LIVE):
        handle.kill()


#: The kernel kills a PDEATHSIG child when the *thread* that forked it ends; faults
#: restart from short-lived threads, so every fork happens on this one.
_FORKER = concurrent.futures.ThreadPoolExecutor(1, "popen-adapter-forker")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL, 0, 0, 0)


class PopenHandle:
    """One child in its own session: the verbs the process faults use, nothing else."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: str) -> None:
        self.argv, self.env, self.log_path = argv, env, log_path
        self.paused = False
        self.starts = 0
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(self) -> PopenHandle:
        if self.alive:
            raise AdapterError("already running")

        def fork() -> subprocess.Popen[bytes]:
            with open(self.log_path, "ab") as log:
                return subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=self.env, start_new_session=True, preexec_fn=_die_with_parent,
                )

        self._popen = _FORKER.submit(fork).result()
        self.starts += 1
        self.paused = False
        _LIVE.add(self)
        return self

    def _group(self, sig: int) -> None:
        if self.alive and self._popen is not None:
            try:
                os.killpg(self._popen.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        if self._popen is None:
            return
        self._group(signal.SIGKILL)
        self._popen.wait(10)
        self.paused = False
        _LIVE.discard(self)

    def pause(self) -> None:
        self._group(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self._group(signal.SIGCONT)
        self.paused = False

    def restart(self, crash: bool = True) -> PopenHandle:
        if not crash and self._popen is not None and self.alive:
            self.resume()
            self._group(signal.SIGTERM)
            try:
                self._popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        return self.start()

    def wait_healthy(self, check: Callable[[], object], timeout: float = 10.0) -> None:
        def ready() -> bool:
            if not self.alive:
                raise ProcessFailed(f"orchestrator exited; see {self.log_path}")
            return bool(check())

        try:
            wait_until(ready, timeout, 0.02, "orchestrator healthy", fatal=(ProcessFailed,))
        except DeadlineExceeded:
            raise ProcessFailed(f"orchestrator not healthy within {timeout:g}s") from None


class PopenAdapter:
    """The bundled orchestrator, through Popen and http.client."""

    name = "orchestrator"
    capabilities = frozenset({"crash", "restart", "pause", "review", "advance_clock"})
    description = "bundled orchestrator via PopenAdapter (tests/contract/popen_adapter.py)"
    quiet_start = False

    def __init__(self) -> None:
        self._env: OrchestratorEnv | None = None
        self._handle: PopenHandle | None = None

    @property
    def url(self) -> str:
        if self._env is None:
            raise AdapterError("not started")
        return self._env.url

    @property
    def pid(self) -> int | None:
        return self._handle.pid if self._handle is not None else None

    @property
    def process(self) -> PopenHandle | None:
        return self._handle

    def start(self, env: OrchestratorEnv, timeout: float = 20.0) -> None:
        if is_listening(env.listen_port, env.listen_host):
            raise PortTaken(f"port {env.listen_port} is taken")
        self._env = env
        environ = {**os.environ, **env.as_environ()}
        self._handle = PopenHandle(bundled_argv(), environ, str(env.log_path)).start()
        self._wait(timeout)

    def _wait(self, timeout: float) -> None:
        assert self._handle is not None
        try:
            self._handle.wait_healthy(self.healthy, timeout)
        except ProcessFailed as exc:
            raise AdapterError(str(exc)) from None

    def prestart(self, env: OrchestratorEnv) -> None:
        raise AdapterError("PopenAdapter keeps no spares (it is not quiet_start)")

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.kill()

    def crash(self) -> None:
        if self._handle is not None:
            self._handle.kill()

    def restart(self, timeout: float = 20.0) -> None:
        if self._handle is None:
            raise AdapterError("not started")
        self._handle.restart(crash=True)
        self._wait(timeout)

    def pause(self) -> None:
        if self._handle is not None:
            self._handle.pause()

    def resume(self) -> None:
        if self._handle is not None:
            self._handle.resume()

    # -- HTTP, with http.client ------------------------------------------------------
    def _request(
        self, method: str, path: str, body: Any = None, timeout: float = 5.0
    ) -> tuple[int, Any]:
        if self._env is None:
            raise AdapterError("not started")
        conn = http.client.HTTPConnection(self._env.listen_host, self._env.listen_port,
                                          timeout=timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise OrchestratorUnreachable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
        try:
            return resp.status, json.loads(raw) if raw else {}
        except ValueError:
            return resp.status, {"_raw": raw[:500].decode(errors="replace")}

    def healthy(self) -> bool:
        try:
            return self._request("GET", "/healthz", timeout=0.5)[0] == 200
        except AdapterError:
            return False

    def submit(self, order: dict[str, Any]) -> SubmitResult:
        try:
            code, body = self._request("POST", "/orders", order)
        except OrchestratorUnreachable as exc:
            return SubmitResult(None, error=str(exc))
        return SubmitResult(code, body if isinstance(body, dict) else {"_raw": body})

    def status(self, order_id: str) -> dict[str, Any] | None:
        code, body = self._request("GET", f"/orders/{order_id}")
        if code == 404:
            return None
        if code != 200 or not isinstance(body, dict) or "status" not in body:
            raise AdapterError(f"GET /orders/{order_id} answered {code}: {body!r:.200}")
        return body

    def review(self, order_id: str, decision: str) -> ReviewResult:
        code, body = self._request("POST", f"/orders/{order_id}/review", {"decision": decision})
        return ReviewResult(code, body if isinstance(body, dict) else {"_raw": body})

    def advance_clock(self, seconds: float) -> None:
        code, body = self._request("POST", BUNDLED_CLOCK_PATH, {"seconds": seconds})
        if code >= 300:
            raise AdapterError(f"advance_clock answered {code}: {body!r:.200}")
