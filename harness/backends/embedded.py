"""fracas's own Toxiproxy-compatible server, started and stopped by the harness."""

from __future__ import annotations

from collections.abc import Sequence

from harness.backends.base import ProcessBackend
from harness.net import LOOPBACK
from harness.procs import python_argv


class EmbeddedBackend(ProcessBackend):
    """The default: needs nothing installed, and honours the seed (jitter, toxicity)."""

    name = "embedded"

    def argv(self, port: int) -> Sequence[str]:
        return python_argv(
            "harness.toxiproxy", "--host", LOOPBACK, "--port", str(port), "--seed", str(self.seed)
        )
