"""fracas's own Toxiproxy-compatible server, started and stopped by the harness."""

from __future__ import annotations

from collections.abc import Sequence

from fracas.harness.backends.base import BackendOptions, FaultBackend, ProcessBackend, register
from fracas.harness.kit.net import LOOPBACK
from fracas.harness.kit.procs import python_argv


@register
class EmbeddedBackend(ProcessBackend):
    """The default: needs nothing installed, and honours the seed (jitter, toxicity)."""

    name = "embedded"
    rank = 0
    reads_nats = True  # its proxy is fracas's own (toxiproxy/natswire.py)

    @classmethod
    def configured(cls, options: BackendOptions) -> FaultBackend:
        return cls(seed=options.seed, log_dir=options.log_dir)

    def argv(self, port: int) -> Sequence[str]:
        return python_argv(
            "fracas.harness.toxiproxy", "--host", LOOPBACK, "--port", str(port), "--seed", str(self.seed)
        )
