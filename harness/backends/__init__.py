"""Where the fault proxy comes from, chosen by config or environment.

``FRACAS_FAULT_BACKEND`` picks one of ``BACKENDS``; ``TOXIPROXY_URL`` names a running
server for the ``url`` backend, and, when ``FRACAS_FAULT_BACKEND`` is unset, choosing
``url`` is implied by setting it (pointing fracas at a server is the whole intent).
Otherwise the default is ``embedded``, which needs nothing installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from harness.backends.base import BackendError, FaultBackend, ProcessBackend
from harness.backends.binary import BinaryBackend
from harness.backends.docker import DockerBackend
from harness.backends.embedded import EmbeddedBackend
from harness.backends.url import UrlBackend

BACKEND_ENV = "FRACAS_FAULT_BACKEND"
URL_ENV = "TOXIPROXY_URL"
BACKENDS: tuple[str, ...] = ("embedded", "url", "binary", "docker")

__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "URL_ENV",
    "BackendError",
    "BinaryBackend",
    "DockerBackend",
    "EmbeddedBackend",
    "FaultBackend",
    "ProcessBackend",
    "UrlBackend",
    "make_backend",
]


def make_backend(
    name: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    seed: int = 0,
    log_dir: Path | None = None,
    url: str | None = None,
) -> FaultBackend:
    """The backend named by ``name`` (config) or else the environment; not yet started."""
    env = os.environ if env is None else env
    url = url if url is not None else env.get(URL_ENV, "")
    source = "backend" if name is not None else BACKEND_ENV
    chosen = name if name is not None else env.get(BACKEND_ENV, "")
    chosen = chosen.strip().lower() or ("url" if url else "embedded")
    if chosen == "embedded":
        return EmbeddedBackend(seed=seed, log_dir=log_dir)
    if chosen == "url":
        if not url:
            raise BackendError(
                f"{source}=url needs {URL_ENV}=http://host:port of a running toxiproxy server"
            )
        return UrlBackend(url)
    if chosen == "binary":
        return BinaryBackend(seed=seed, log_dir=log_dir, path=env.get("PATH"))
    if chosen == "docker":
        return DockerBackend(seed=seed)
    raise BackendError(f"{source} must be one of {', '.join(BACKENDS)}; got {chosen!r}")
