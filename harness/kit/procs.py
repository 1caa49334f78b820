"""Child processes that cannot outlive the harness.

Every fake, proxy server and orchestrator fracas starts is a ManagedProcess. Three
layers make sure none is left behind:

1. the owner stops it (``stop``/``kill``) in its teardown;
2. a registry of live children is killed at interpreter exit and on SIGTERM;
3. each child is started with ``PR_SET_PDEATHSIG = SIGKILL`` so that the kernel kills
   it when the harness dies, even by SIGKILL, where no Python code can run.

Linux delivers the death signal when the *thread* that forked the child exits, not
the process. A fault schedule restarts processes from worker threads that end long
before the child should, so spawns from any thread but the main one are handed to one
spawner thread that lives as long as the interpreter.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from fracas.harness.kit.waiting import DeadlineExceeded, wait_until

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """preexec_fn: ask the kernel to SIGKILL us when our parent goes away."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass
    # The parent may already be gone between fork and prctl.
    if os.getppid() == 1:
        os._exit(1)


_spawner: concurrent.futures.ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


def _spawn(popen: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """Fork from a thread that outlives the child (see the module docstring)."""
    global _spawner
    if threading.current_thread() is threading.main_thread():
        return popen()
    with _spawner_lock:
        if _spawner is None:
            _spawner = concurrent.futures.ThreadPoolExecutor(1, "fracas-spawner")
    return _spawner.submit(popen).result()


class ProcessFailed(RuntimeError):
    """A managed process exited or never became healthy; carries its log tail."""


@runtime_checkable
class ProcessHandle(Protocol):
    """The fault verbs on one process, as process faults and the topology use them.

    ``ManagedProcess`` is one. An orchestrator adapter may hand out another (a process
    its own launcher started, a container), so faults reach the orchestrator only through
    this and never through how it was started."""

    @property
    def alive(self) -> bool: ...

    @property
    def paused(self) -> bool: ...

    @property
    def starts(self) -> int:
        """How often it was started; 0: never, so heal_all leaves it alone."""
        ...

    def start(self) -> object:
        """Start it again after a kill, on the same command, environment and state."""
        ...

    def kill(self) -> None:
        """SIGKILL (or as hard as the handle can): a crash, nothing flushed."""
        ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def restart(self, crash: bool = True) -> object:
        """Kill (``crash``) or stop it, then start it again."""
        ...

    def wait_healthy(self, check: Callable[[], object], timeout: float = 10.0) -> None:
        """Return once ``check()`` is truthy; raise ProcessFailed if it exits first or
        the time runs out."""
        ...


class ManagedProcess:
    """One child process with a name, a log file and fault verbs (kill, pause, restart)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = Path(log_path)
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self.paused = False
        self.starts = 0

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> ManagedProcess:
        if self.alive:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"--- fracas: start #{self.starts + 1} {' '.join(self.argv)}\n".encode())
            log.flush()
            self._proc = _spawn(
                lambda: subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.cwd,
                    start_new_session=True,
                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                )
            )
        self.starts += 1
        self.paused = False
        _registry.add(self)
        return self

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def wait_healthy(self, check: Callable[[], object], timeout: float = 10.0) -> None:
        """Wait until `check()` is truthy; fail fast if the process exits meanwhile."""

        def ready() -> bool:
            if not self.alive:
                raise ProcessFailed(self._failure(f"exited with {self.returncode}"))
            return bool(check())

        try:
            wait_until(
                ready, timeout, interval=0.02, what=f"{self.name} healthy", fatal=(ProcessFailed,)
            )
        except DeadlineExceeded:
            raise ProcessFailed(self._failure(f"not healthy within {timeout:.1f}s")) from None

    def _failure(self, what: str) -> str:
        return f"{self.name} {what}; last lines of {self.log_path}:\n{self.log_tail()}"

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines this start wrote: a restart appends to the log of
        the process before it, whose lines would say nothing of why this one failed."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        own = text.splitlines()
        header = f"--- fracas: start #{self.starts} "
        starts = [i for i, line in enumerate(own) if line.startswith(header)]
        if starts:
            own = own[starts[-1]:]
        return "\n".join(own[-lines:])

    # -- fault verbs -----------------------------------------------------------------
    def signal(self, sig: int) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.kill(self._proc.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL and reap: a real crash, nothing flushed, no handler runs."""
        if self._proc is None:
            return
        self.signal(signal.SIGKILL)
        self._reap(5.0)
        self.paused = False

    def signal_group(self, sig: int) -> None:
        """Signal the whole session the process leads (it was started with its own): an
        orchestrator that runs its engine's server as a child pauses as one piece."""
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                self.signal(sig)

    def pause(self) -> None:
        self.signal_group(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self.signal_group(signal.SIGCONT)
        self.paused = False

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (after SIGCONT if paused), then SIGKILL once `timeout` runs out."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            if self.paused:
                self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
        self._reap(5.0)
        self.paused = False

    def restart(self, crash: bool = True) -> ManagedProcess:
        """Kill (or stop) and start again with the same argv, env and state dir."""
        if crash:
            self.kill()
        else:
            self.stop()
        return self.start()

    def _reap(self, timeout: float) -> None:
        assert self._proc is not None
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        # Anything it left in its session (a shell's children) goes too.
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _registry.discard(self)

    def __repr__(self) -> str:
        state = "alive" if self.alive else f"exited({self.returncode})"
        return f"<ManagedProcess {self.name} pid={self.pid} {state}>"


class _Registry:
    """Every live ManagedProcess, killed at exit or on SIGTERM/SIGHUP."""

    def __init__(self) -> None:
        self._procs: weakref.WeakSet[ManagedProcess] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._installed = False

    def add(self, proc: ManagedProcess) -> None:
        with self._lock:
            self._procs.add(proc)
            if not self._installed:
                self._install()

    def discard(self, proc: ManagedProcess) -> None:
        with self._lock:
            self._procs.discard(proc)

    def kill_all(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            proc.kill()

    def _install(self) -> None:
        self._installed = True
        atexit.register(self.kill_all)
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous = signal.getsignal(sig)
            if previous is signal.SIG_IGN:
                continue

            def handler(signum: int, frame: object, _prev: object = previous) -> None:
                self.kill_all()
                if callable(_prev):
                    _prev(signum, frame)
                else:
                    signal.signal(signum, signal.SIG_DFL)
                    os.kill(os.getpid(), signum)

            signal.signal(sig, handler)


_registry = _Registry()


#: Python's -P: the child's cwd is not put on sys.path. Started in the parent folder of a
#: clone named ``fracas``, ``python -m fracas...`` would import that clone as a namespace
#: package ahead of the installed fracas (ImportError: cannot import name ...).
SAFE_PATH = "-P"


def python_argv(module: str, *args: str) -> list[str]:
    """argv that runs `python -m module args...` with this interpreter, whatever its cwd."""
    return [sys.executable, SAFE_PATH, "-m", module, *args]


def wait_exit(proc: ManagedProcess, timeout: float) -> int:
    """Wait for a process to exit on its own and return its code."""
    deadline = time.monotonic() + timeout
    while proc.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    code = proc.returncode
    if code is None:
        raise DeadlineExceeded(f"{proc.name} still running after {timeout:.1f}s")
    return code
