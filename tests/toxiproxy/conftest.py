"""Fixtures for the embedded Toxiproxy server's tests: the server as a ManagedProcess
on a free port (stopped, and checked gone, at teardown) and in-process upstreams."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tp_helpers import ToxiproxyServer, Upstream


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    up = Upstream()
    yield up
    up.close()


@pytest.fixture(scope="session")
def tp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToxiproxyServer]:
    server = ToxiproxyServer(tmp_path_factory.mktemp("toxiproxy")).start()
    yield server
    server.stop()
    assert not server.process.alive


@pytest.fixture()
def tp(tp_server: ToxiproxyServer) -> Iterator[ToxiproxyServer]:
    """The shared server, emptied after each test and checked for leaks."""
    tp_server.clear()
    yield tp_server
    tp_server.clear()
    tp_server.wait_idle()


@pytest.fixture()
def start_server(tmp_path: Path) -> Iterator[Callable[..., ToxiproxyServer]]:
    """Start extra servers (a seed, a config); all are stopped at teardown."""
    started: list[ToxiproxyServer] = []

    def start(seed: int | None = None, extra: tuple[str, ...] = ()) -> ToxiproxyServer:
        server = ToxiproxyServer(tmp_path, seed=seed, extra=extra).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        assert not server.process.alive
