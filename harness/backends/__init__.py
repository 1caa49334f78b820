"""Where the fault proxy comes from, chosen by config or environment.

Each backend is one module here whose class is decorated with ``base.register``; every
module is imported below (as toxics and checker rules are), so adding a backend is adding
a file. ``FRACAS_FAULT_BACKEND`` picks one of ``BACKENDS``; ``TOXIPROXY_URL`` names a running
server for the ``url`` backend, and, when ``FRACAS_FAULT_BACKEND`` is unset, choosing
``url`` is implied by setting it (pointing fracas at a server is the whole intent).
Otherwise the default is ``embedded``, which needs nothing installed.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Mapping
from pathlib import Path

from fracas.harness.backends.base import (
    REGISTRY,
    BackendError,
    BackendOptions,
    FaultBackend,
    ProcessBackend,
)
from fracas.harness.backends.binary import BinaryBackend
from fracas.harness.backends.docker import DockerBackend
from fracas.harness.backends.embedded import EmbeddedBackend
from fracas.harness.backends.url import UrlBackend

BACKEND_ENV = "FRACAS_FAULT_BACKEND"
URL_ENV = "TOXIPROXY_URL"

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def backend_names() -> tuple[str, ...]:
    """Every registered backend, the default first (one registered later counts too)."""
    return tuple(sorted(REGISTRY, key=lambda n: (REGISTRY[n].rank, n)))


BACKENDS: tuple[str, ...] = backend_names()

__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "REGISTRY",
    "BackendOptions",
    "URL_ENV",
    "BackendError",
    "BinaryBackend",
    "DockerBackend",
    "EmbeddedBackend",
    "FaultBackend",
    "ProcessBackend",
    "UrlBackend",
    "backend_names",
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
    kind = REGISTRY.get(chosen)
    if kind is None:
        raise BackendError(f"{source} must be one of {', '.join(backend_names())}; got {chosen!r}")
    return kind.configured(BackendOptions(seed, log_dir, url, env, source))
