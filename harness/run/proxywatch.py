"""The fault proxy's server watched for the topology's whole life.

A server fracas started that dies (killed, out of memory) takes every proxy with it:
each fake is then out of the orchestrator's reach, and a run would end in a verdict on
a world the harness no longer controls. So the harness notices within a tenth of a
second, starts the server again on its port, puts each proxy back on its listen
address (the orchestrator was pointed at those), and says so: on stderr, in the
server's log, and in the report of the run it happened in (``meta.proxy_restarts``).
The toxics it held are gone with it, which is what a heal of one then finds (a heal
takes a missing toxic as healed). A server fracas did not start (given by URL) is not
fracas's to restart: its death surfaces as the client's error.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fracas.harness.backends import FaultBackend

#: How often the watcher looks (a dead proxy costs every call that much at most).
INTERVAL = 0.1


@dataclass(frozen=True)
class ProxyRestart:
    """One death of the server and its restart."""

    t: float  #: wall-clock time it was noticed
    exit_code: int | None  #: how it ended (-9: SIGKILL)
    proxies: int  #: proxies put back
    seconds: float  #: from noticing to every proxy back

    def sentence(self) -> str:
        how = f"signal {-self.exit_code}" if self.exit_code and self.exit_code < 0 else (
            f"exit code {self.exit_code}")
        return (f"fracas: the fault proxy's server died ({how}); restarted on its port with "
                f"its {self.proxies} proxies in {self.seconds:.2f} s (the faults it held are gone)")


class ProxyWatch:
    """A daemon thread that revives the backend's server; ``check()`` does it at once."""

    def __init__(
        self,
        backend: FaultBackend,
        proxies: Sequence[Mapping[str, Any]],
        say: Callable[[str], None] | None = None,
        interval: float = INTERVAL,
    ) -> None:
        self.backend = backend
        #: every proxy on the server, as /populate takes them: what a restart puts back
        self.proxies = [{**p, "enabled": True} for p in proxies]
        self.say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.interval = interval
        self.restarts: list[ProxyRestart] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ProxyWatch:
        self._thread = threading.Thread(target=self._watch, name="fracas-proxy-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - say it, and try again next time
                self.say(f"fracas: the fault proxy's server died and could not be restarted: {exc}")

    def check(self) -> ProxyRestart | None:
        """Revive the server if it died; the restart, or None when it was running."""
        with self._lock:
            if self._stopping.is_set():
                return None
            code = self.backend.died()
            if code is None:
                return None
            t0 = time.monotonic()
            noticed = time.time()
            self.backend.revive()
            self.backend.client.populate(self.proxies)
            done = ProxyRestart(noticed, code, len(self.proxies), time.monotonic() - t0)
            self.restarts.append(done)
        self.say(done.sentence())
        return done

    def since(self, t: float) -> list[dict[str, Any]]:
        """The restarts noticed at or after wall time ``t``, as the report keeps them."""
        return [asdict(r) | {"said": r.sentence()} for r in self.restarts if r.t >= t]
