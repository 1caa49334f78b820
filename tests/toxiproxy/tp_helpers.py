"""Helpers for the embedded Toxiproxy server's tests.

The server always runs as its own process (a ManagedProcess on a free port), exactly
as the harness runs it; upstreams run in this process, on an asyncio loop in a
thread, so tests can read the upstream's own view (open connections, bytes seen).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx

from fracas.harness.kit.net import LOOPBACK, free_port
from fracas.harness.kit.procs import ManagedProcess, python_argv
from fracas.harness.kit.waiting import wait_until


class ToxiproxyServer:
    """A running ``python -m fracas.harness.toxiproxy`` and an HTTP client for its API."""

    def __init__(self, tmp: Path, seed: int | None = None, extra: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        args = ["--port", str(self.port), *extra]
        if seed is not None:
            args += ["--seed", str(seed)]
        self.process = ManagedProcess(
            f"toxiproxy-{self.port}",
            python_argv("fracas.harness.toxiproxy", *args),
            tmp / f"toxiproxy-{self.port}.log",
        )
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=10.0)

    def start(self) -> ToxiproxyServer:
        self.process.start()
        self.process.wait_healthy(self._healthy, timeout=20.0)
        return self

    def _healthy(self) -> bool:
        try:
            return self.http.get("/version").status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.http.close()
        self.process.stop()

    # -- API shorthands -----------------------------------------------------------
    def proxy(self, name: str, upstream_port: int, **extra: Any) -> int:
        """Create a proxy on a free loopback port; return its listen port."""
        body = {
            "name": name,
            "upstream": f"{LOOPBACK}:{upstream_port}",
            "listen": f"{LOOPBACK}:0",
            **extra,
        }
        r = self.http.post("/proxies", json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["listen"].rsplit(":", 1)[1])

    def toxic(
        self,
        proxy: str,
        type: str,
        stream: str = "downstream",
        toxicity: float = 1.0,
        name: str | None = None,
        **attributes: int,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": type,
            "stream": stream,
            "toxicity": toxicity,
            "attributes": attributes,
        }
        if name is not None:
            body["name"] = name
        r = self.http.post(f"/proxies/{proxy}/toxics", json=body)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get("/_debug/stats").json()
        return result

    def clear(self) -> None:
        for name in list(self.http.get("/proxies").json()):
            self.http.delete(f"/proxies/{name}")

    def wait_idle(self, timeout: float = 10.0) -> dict[str, Any]:
        """Until no connection, proxy-side socket or proxy task is left."""

        def idle() -> dict[str, Any] | None:
            s = self.stats()
            ok = s["connections"] == 0 and s["open_sockets"] == 0 and s["tasks"] == 0
            return s if ok else None

        return wait_until(idle, timeout, what="proxy idle (no connections, sockets, tasks)")


class Upstream:
    """Test upstreams on one asyncio loop in a daemon thread.

    ``echo``: echoes; ``hello``: sends b"hello" and closes; ``sink``: reads and keeps.
    Every connection is counted, so tests can see the upstream's side of leaks.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.open = 0
        self.accepted = 0
        self.received: list[bytearray] = []
        self.closed_events: list[float] = []
        self._servers: list[asyncio.AbstractServer] = []
        self.thread.start()
        self.echo_port = self._listen(self._echo)
        self.hello_port = self._listen(self._hello)
        self.sink_port = self._listen(self._sink)

    def _run(self, coro: Any) -> Any:
        fut: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(10)

    def _listen(self, handler: Callable[..., Any]) -> int:
        async def start() -> int:
            server = await asyncio.start_server(handler, LOOPBACK, 0, backlog=4096)
            self._servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        port: int = self._run(start())
        return port

    async def _track(self, writer: asyncio.StreamWriter, body: Any) -> None:
        self.open += 1
        self.accepted += 1
        try:
            await body
        except (ConnectionError, OSError):
            pass
        finally:
            self.open -= 1
            self.closed_events.append(time.monotonic())
            writer.close()

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def body() -> None:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

        await self._track(writer, body())

    async def _hello(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def body() -> None:
            writer.write(b"hello")
            await writer.drain()

        await self._track(writer, body())

    async def _sink(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buf = bytearray()
        self.received.append(buf)

        async def body() -> None:
            while data := await reader.read(65536):
                buf.extend(data)

        await self._track(writer, body())

    def close(self) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()

        self._run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection((LOOPBACK, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        data = sock.recv(n - len(buf))
        if not data:
            raise EOFError(f"EOF after {len(buf)} of {n} bytes")
        buf.extend(data)
    return bytes(buf)


def recv_all(sock: socket.socket) -> bytes:
    """Everything until EOF."""
    buf = bytearray()
    while data := sock.recv(65536):
        buf.extend(data)
    return bytes(buf)


def round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    start = time.perf_counter()
    sock.sendall(payload)
    assert recv_exactly(sock, len(payload)) == payload
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]
