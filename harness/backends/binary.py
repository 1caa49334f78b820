"""A real ``toxiproxy-server`` from PATH, started and stopped by the harness."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from fracas.harness.backends.base import (
    BackendError,
    BackendOptions,
    FaultBackend,
    ProcessBackend,
    register,
)
from fracas.harness.kit.net import LOOPBACK

EXECUTABLE = "toxiproxy-server"


@register
class BinaryBackend(ProcessBackend):
    """For checking that fracas's scenarios mean the same against the real server."""

    name = "binary"
    rank = 2

    @classmethod
    def configured(cls, options: BackendOptions) -> FaultBackend:
        return cls(seed=options.seed, log_dir=options.log_dir, path=options.env.get("PATH"))

    def __init__(
        self,
        seed: int = 0,
        log_dir: Path | None = None,
        start_timeout: float = 15.0,
        path: str | None = None,
    ) -> None:
        super().__init__(seed, log_dir, start_timeout)
        search = path if path is not None else os.environ.get("PATH", "")
        found = shutil.which(EXECUTABLE, path=search)
        if found is None:
            raise BackendError(
                f"binary backend: {EXECUTABLE} not found on PATH ({search or 'empty'}); "
                "install toxiproxy 2.x, use the embedded backend, or set TOXIPROXY_URL"
            )
        self.executable = found

    def argv(self, port: int) -> Sequence[str]:
        # The real server takes Go-style single-dash flags; -seed exists there too.
        return [self.executable, "-host", LOOPBACK, "-port", str(port), "-seed", str(self.seed)]

    def _start(self) -> str:
        if not os.access(self.executable, os.X_OK):
            raise BackendError(f"binary backend: {self.executable} is not executable")
        return super()._start()
