"""Running one fake as a process: uvicorn on loopback, with the protocol hook that lets
fault actions reach the connection.
"""

from __future__ import annotations

import errno
import importlib
import logging
import socket
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fracas.fakes.app import FakeApp
from fracas.fakes.contract import BUILTIN_SERVICES, EXIT_PORT_TAKEN
from fracas.fakes.service import Service
from fracas.fakes.store import Store
from fracas.fakes.world import build_world

LOOPBACK = "127.0.0.1"

#: Each built-in service is the module ``fakes.<name>`` exposing ``SERVICE``; the contract
#: lists the names, so a new built-in fake is its module plus its contract entry.
SERVICES: dict[str, Service] = {
    name: importlib.import_module(f"fracas.fakes.{name}").SERVICE for name in BUILTIN_SERVICES
}

log = logging.getLogger("fakes")


class FracasProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus the transport in the scope (``fracas.transport``)
    so ``drop``, ``reset`` and ``truncated`` can close or abort the real connection."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["fracas.transport"] = self.transport  # type: ignore[typeddict-unknown-key]


def open_app(name: str, state_dir: Path, seed: int) -> FakeApp:
    """The app on its ledger; a fresh ledger is seeded, an existing one is kept as is
    (a restart after a crash must find every committed effect)."""
    service = SERVICES[name]
    state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(state_dir / f"{name}.sqlite3", service)
    if store.seed is None:
        store.reset(build_world(seed))
    elif store.seed != seed:
        log.warning("%s: ledger has seed %s, keeping it (asked for %s)", name, store.seed, seed)
    return FakeApp(service, store)


class _Server(uvicorn.Server):
    """uvicorn's server, telling its caller once it really listens."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self._on_ready is not None and not self.should_exit:
            self._on_ready()


def serve(
    name: str,
    port: int,
    state_dir: Path,
    seed: int,
    log_level: str = "warning",
    on_ready: Callable[[], None] | None = None,
) -> None:
    try:
        app = open_app(name, state_dir, seed)
    except (OSError, sqlite3.Error) as exc:
        # A read-only or full state dir: one line for the harness to show, no traceback.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"fake {name}: cannot keep its ledger in {state_dir}: {reason.lower()} "
              "(is the disk full or read-only?)", file=sys.stderr, flush=True)  # fmt: skip
        raise SystemExit(1) from None
    config = uvicorn.Config(
        app,
        host=LOOPBACK,
        port=port,
        loop="uvloop",
        http=FracasProtocol,
        lifespan="off",
        access_log=False,
        log_level=log_level,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=2,
        backlog=4096,
    )
    try:
        sock = listen_socket(port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"fake {name}: port {port} on {LOOPBACK} is taken by another process",
              file=sys.stderr, flush=True)
        raise SystemExit(EXIT_PORT_TAKEN) from None
    _Server(config, on_ready).run(sockets=[sock])


def listen_socket(port: int) -> socket.socket:
    """The listening socket, bound here rather than by uvicorn so that a port taken by
    another process is told apart (exit code ``EXIT_PORT_TAKEN``) from any other failure:
    the harness then starts the fake on another port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
        sock.listen(4096)
    except OSError:
        sock.close()
        raise
    return sock
