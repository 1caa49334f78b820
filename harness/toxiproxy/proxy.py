"""Proxies: a listener, its connection pairs, and per-direction toxic chains.

The cost model drives the design. A direction with no toxics is *lean*: the
protocol's ``data_received`` writes straight into the peer transport and flow
control is the transports' own (the peer's ``pause_writing`` pauses our reading), so
the proxy adds one branch and one ``write`` per chunk. Only a direction with toxics
gets a *pipeline*: one asyncio task per toxic joined by queues, ending in a sink
task, like Toxiproxy's goroutines and channels.

Every rewiring of a live pipeline (add, update, remove a toxic; switch between lean
and toxic) is done synchronously, between two loop steps: toxics are cancelled
rather than asked to stop, and what they held is read off their stubs. Nothing can
run in between, so byte order is kept without locks or handshakes.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, cast

from fracas.harness.toxiproxy.spin import spinner
from fracas.harness.toxiproxy.toxics import Chunk, Item, Stub, Toxic, pass_through


class Host(Protocol):
    """What a proxy needs from the server that owns it (``server.Server`` is one).

    A protocol rather than an import of ``server`` so the dependency points one way:
    the server builds proxies, a proxy never imports the server."""

    open_sockets: int

    def rng_for(self, proxy: str, index: int, direction: str) -> random.Random: ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]: ...


log = logging.getLogger("fracas.toxiproxy")

HIGH_WATER = 1 << 20
"""Bytes a pipeline may hold before reading from its source pauses."""
LOW_WATER = 1 << 18
CLOSE_GRACE = 5.0
"""Seconds a closing transport may spend flushing to a peer that does not read."""


class StartError(Exception):
    """A listener could not be bound; the text mimics Go's net.Listen errors."""


class ToxicSpec:
    """A toxic as the API sees it: name, stream, toxicity and the toxic itself."""

    __slots__ = ("name", "type", "stream", "upstream", "toxicity", "impl")

    def __init__(
        self, name: str, type: str, stream: str, upstream: bool, toxicity: float, impl: Toxic
    ) -> None:
        self.name = name
        self.type = type
        self.stream = stream
        self.upstream = upstream
        self.toxicity = toxicity
        self.impl = impl

    def to_json(self) -> dict[str, object]:
        return {
            "attributes": self.impl.attributes(),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
        }


# -- connections ---------------------------------------------------------------------


class _Side(asyncio.Protocol):
    """One socket of a connection pair. It is the source of ``out`` and the
    destination of ``inc``."""

    __slots__ = ("conn", "out", "inc", "transport", "open")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.open = False
        self.out: Direction
        self.inc: Direction
        self.transport: asyncio.Transport

    def data_received(self, data: bytes) -> None:
        d = self.out
        d.received += len(data)
        if d.pipeline is None:
            d.sent += len(data)
            d.dst.write(data)
        else:
            d.pipeline.feed(data)
        spinner.touch()

    def eof_received(self) -> bool:
        self.out.source_ended()
        return True  # we decide when to close

    def pause_writing(self) -> None:
        self.inc.dst_paused = True
        self.inc.update_reading()

    def resume_writing(self) -> None:
        self.inc.dst_paused = False
        self.inc.update_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.open:
            self.open = False
            self.conn.proxy.server.open_sockets -= 1
        if not self.conn.closed:
            self.out.source_ended()


class _ClientSide(_Side):
    __slots__ = ()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they implement it.
        self.transport = transport = cast(asyncio.Transport, transport)
        self.open = True
        self.conn.proxy.server.open_sockets += 1
        transport.pause_reading()  # until the upstream is connected
        self.conn.accepted(transport)


class _UpstreamSide(_Side):
    __slots__ = ()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)
        self.open = True
        self.conn.proxy.server.open_sockets += 1
        if self.conn.closed:
            transport.abort()
            return
        self.conn.upstream_connected(transport)


class Direction:
    """One direction of one connection: source socket → toxics → destination socket."""

    __slots__ = (
        "conn",
        "upstream",
        "src",
        "dst",
        "pipeline",
        "dst_paused",
        "pipe_full",
        "src_paused",
        "received",
        "sent",
        "_rng",
    )

    def __init__(self, conn: Connection, upstream: bool) -> None:
        self.conn = conn
        self.upstream = upstream
        self.pipeline: Pipeline | _Prewire | None = None
        self.dst_paused = False
        self.pipe_full = False
        self.src_paused = False
        self.received = 0
        self.sent = 0
        self._rng: random.Random | None = None
        self.src: asyncio.Transport
        self.dst: asyncio.Transport

    @property
    def name(self) -> str:
        return "upstream" if self.upstream else "downstream"

    @property
    def rng(self) -> random.Random:
        """Per connection and direction, derived from the seed, the proxy and the
        connection's number: a seeded run repeats however connections interleave."""
        if self._rng is None:
            self._rng = self.conn.proxy.server.rng_for(
                self.conn.proxy.name, self.conn.index, self.name
            )
        return self._rng

    def update_reading(self) -> None:
        pause = self.dst_paused or self.pipe_full
        if pause == self.src_paused or self.conn.closed:
            return
        self.src_paused = pause
        if pause:
            self.src.pause_reading()
        else:
            self.src.resume_reading()

    def source_ended(self) -> None:
        if self.pipeline is None:
            self.conn.close()
        else:
            self.pipeline.feed_eof()

    # -- hooks for stubs (LinkHooks) ----------------------------------------------
    def dropped(self, nbytes: int) -> None:
        if isinstance(self.pipeline, Pipeline):
            self.pipeline.written(nbytes)

    def reset(self) -> None:
        self.conn.reset()

    # -- chain changes --------------------------------------------------------------
    def add_toxic(self, spec: ToxicSpec, reroll: bool = True) -> None:
        pipeline = self.pipeline
        if not isinstance(pipeline, Pipeline):
            pipeline = self.pipeline = Pipeline(self)
        pipeline.add(spec, reroll)

    def update_toxic(self, spec: ToxicSpec) -> None:
        if isinstance(self.pipeline, Pipeline):
            self.pipeline.update(spec)

    def remove_toxic(self, spec: ToxicSpec) -> None:
        if isinstance(self.pipeline, Pipeline):
            self.pipeline.remove(spec)


class _Prewire:
    """Stands in for the pipeline until the upstream is connected: uvloop may
    deliver data from an accepted socket despite ``pause_reading`` in
    ``connection_made``, so hold it and replay it once wired."""

    __slots__ = ("d", "buffer", "eof")

    def __init__(self, d: Direction) -> None:
        self.d = d
        self.buffer: list[bytes] = []
        self.eof = False

    def feed(self, data: bytes) -> None:
        self.buffer.append(data)
        if self.d.conn.client.open:
            self.d.conn.client.transport.pause_reading()

    def feed_eof(self) -> None:
        self.eof = True

    def cancel(self) -> None:
        self.buffer.clear()


class _Stage:
    __slots__ = ("spec", "stub", "task", "active")

    def __init__(self, spec: ToxicSpec, stub: Stub, active: bool) -> None:
        self.spec = spec
        self.stub = stub
        self.active = active
        self.task: asyncio.Task[None] | None = None


class Pipeline:
    """Toxic mode of one direction: stages in creation order, then a sink."""

    __slots__ = ("d", "stages", "sink_q", "sink_task", "inflight", "loop")

    def __init__(self, d: Direction) -> None:
        self.d = d
        self.loop = asyncio.get_running_loop()
        self.stages: list[_Stage] = []
        self.sink_q: asyncio.Queue[Item] = asyncio.Queue()
        self.inflight = 0
        self.sink_task: asyncio.Task[None] = d.conn.proxy.server.spawn(self._sink())

    # -- data -----------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self.inflight += len(data)
        head = self.stages[0].stub.input if self.stages else self.sink_q
        head.put_nowait(Chunk(data, self.loop.time()))
        if self.inflight > HIGH_WATER and not self.d.pipe_full:
            self.d.pipe_full = True
            self.d.update_reading()

    def feed_eof(self) -> None:
        head = self.stages[0].stub.input if self.stages else self.sink_q
        head.put_nowait(None)

    def written(self, nbytes: int) -> None:
        self.inflight -= nbytes
        if self.d.pipe_full and self.inflight < LOW_WATER:
            self.d.pipe_full = False
            self.d.update_reading()

    def _write(self, item: Item) -> None:
        d = self.d
        if item is None:
            d.conn.close()
            return
        if d.conn.closed:
            return
        n = len(item.data)
        if n:
            d.dst.write(item.data)
            d.sent += n
            self.written(n)

    async def _sink(self) -> None:
        queue = self.sink_q
        while True:
            item = await queue.get()
            self._write(item)
            if item is None:
                return

    # -- rewiring (all synchronous) ---------------------------------------------------
    def _start(
        self,
        spec: ToxicSpec,
        input: asyncio.Queue[Item],
        output: asyncio.Queue[Item],
        state: object = None,
        active: bool | None = None,
    ) -> _Stage:
        """Start a toxic on this direction; ``active`` None means roll toxicity."""
        d = self.d
        if active is None:
            active = d.rng.random() < spec.toxicity
        if state is None:
            state = spec.impl.new_state()
        stage = _Stage(spec, Stub(input, output, d.rng, d, state), active)
        stage.task = d.conn.proxy.server.spawn(self._run(stage))
        return stage

    def _restart(self, old: _Stage, active: bool | None = None) -> _Stage:
        """Interrupt a stage and start its toxic again on the same queues, keeping
        its state. As in Toxiproxy, what it held is let go unaltered."""
        _cancel(old)
        if old.stub.doomed:
            self.d.reset()  # it dropped data and was to reset: the stream has a gap
            return old
        if old.stub.holding:
            old.stub.output.put_nowait(old.stub.held)
        return self._start(old.spec, old.stub.input, old.stub.output, old.stub.state, active)

    def _reroll(self, skip: _Stage | None = None) -> None:
        """The chain changed: every toxic in it rolls its toxicity again; only those
        whose decision flips are interrupted."""
        for i, stage in enumerate(self.stages):
            if self.d.conn.closed:
                return  # a restarted stage reset the connection
            if stage is skip:
                continue
            active = self.d.rng.random() < stage.spec.toxicity
            if active != stage.active:
                self.stages[i] = self._restart(stage, active)

    async def _run(self, stage: _Stage) -> None:
        try:
            if stage.active:
                await stage.spec.impl.pipe(stage.stub)
            else:
                await pass_through(stage.stub)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("toxic %s failed; closing the connection", stage.spec.name)
            self.d.conn.close()

    def add(self, spec: ToxicSpec, reroll: bool = True) -> None:
        if reroll:
            self._reroll()
        stage = self._start(spec, asyncio.Queue(), self.sink_q)
        if self.stages:
            self.stages[-1].stub.output = stage.stub.input
        self.stages.append(stage)

    def _index(self, spec: ToxicSpec) -> int:
        for i, stage in enumerate(self.stages):
            if stage.spec is spec:
                return i
        raise KeyError(spec.name)

    def update(self, spec: ToxicSpec) -> None:
        i = self._index(spec)
        self.stages[i] = self._restart(self.stages[i])
        if not self.d.conn.closed:
            self._reroll(skip=self.stages[i])

    def remove(self, spec: ToxicSpec) -> None:
        i = self._index(spec)
        old = self.stages.pop(i)
        _cancel(old)
        out = old.stub.output
        if i > 0:
            self.stages[i - 1].stub.output = out
        if old.stub.holding:
            out.put_nowait(old.stub.held)
        while not old.stub.input.empty():
            out.put_nowait(old.stub.input.get_nowait())
        if old.stub.doomed:
            self.d.reset()  # it dropped data and was to reset: the stream has a gap
            return
        if old.active and spec.impl.close_on_remove:
            self.d.conn.close()
            return
        if not self.stages:
            self._become_lean()
        else:
            self._reroll()

    def _become_lean(self) -> None:
        """Write out whatever is queued for the sink now, then bypass it."""
        self.sink_task.cancel()
        self.d.pipeline = None
        while not self.sink_q.empty():
            self._write(self.sink_q.get_nowait())
        if self.d.pipe_full:
            self.d.pipe_full = False
            self.d.update_reading()

    def cancel(self) -> None:
        for stage in self.stages:
            _cancel(stage)
        self.sink_task.cancel()


def _cancel(stage: _Stage) -> None:
    if stage.task is not None:
        stage.task.cancel()


class Connection:
    """A client socket and the upstream socket dialled for it."""

    __slots__ = (
        "proxy",
        "index",
        "client",
        "upstream_side",
        "up",
        "down",
        "closed",
        "wired",
        "dial_task",
    )

    def __init__(self, proxy: Proxy, index: int) -> None:
        self.proxy = proxy
        self.index = index
        self.closed = False
        self.wired = False
        self.client = _ClientSide(self)
        self.upstream_side = _UpstreamSide(self)
        self.up = Direction(self, upstream=True)
        self.down = Direction(self, upstream=False)
        self.up.pipeline = _Prewire(self.up)
        self.client.out = self.up
        self.client.inc = self.down
        self.upstream_side.out = self.down
        self.upstream_side.inc = self.up
        self.dial_task: asyncio.Task[None] | None = None

    def accepted(self, transport: asyncio.Transport) -> None:
        self.proxy.connections.add(self)
        self.proxy.accepted += 1
        self.dial_task = self.proxy.server.spawn(self._dial())

    async def _dial(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            host, port = self.proxy.upstream_address()
            await loop.create_connection(lambda: self.upstream_side, host, port)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any dial failure closes the client
            log.info("proxy %s: upstream %s: %s", self.proxy.name, self.proxy.upstream, exc)
            self.close()
        finally:
            self.dial_task = None

    def upstream_connected(self, transport: asyncio.Transport) -> None:
        client = self.client.transport
        self.up.src = client
        self.up.dst = transport
        self.down.src = transport
        self.down.dst = client
        self.wired = True
        early = self.up.pipeline
        self.up.pipeline = None
        for spec in self.proxy.chains[True]:
            self.up.add_toxic(spec, reroll=False)
        for spec in self.proxy.chains[False]:
            self.down.add_toxic(spec, reroll=False)
        if isinstance(early, _Prewire):
            for data in early.buffer:
                self.client.data_received(data)
            if early.eof:
                self.up.source_ended()
                return
        client.resume_reading()

    def close(self, abort: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        self.proxy.connections.discard(self)
        for d in (self.up, self.down):
            totals = self.proxy.closed_bytes[d.upstream]
            totals[0] += d.received
            totals[1] += d.sent
            if d.pipeline is not None:
                d.pipeline.cancel()
                d.pipeline = None
        if self.dial_task is not None:
            self.dial_task.cancel()
        for side in (self.client, self.upstream_side):
            if side.open:
                _close_transport(side.transport, abort)

    def reset(self) -> None:
        for side in (self.client, self.upstream_side):
            if side.open:
                sock = side.transport.get_extra_info("socket")
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except (OSError, AttributeError):
                    pass
        self.close(abort=True)


def _close_transport(transport: asyncio.Transport, abort: bool) -> None:
    if abort:
        transport.abort()
        return
    transport.close()
    if transport.get_write_buffer_size() > 0:
        asyncio.get_running_loop().call_later(CLOSE_GRACE, transport.abort)


# -- the proxy -----------------------------------------------------------------------


def split_address(address: str) -> tuple[str, int]:
    """Go's SplitHostPort + port parse, with Go's error texts."""
    host, sep, port_text = address.rpartition(":")
    if not sep:
        raise StartError(f"address {address}: missing port in address")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        port = int(port_text) if port_text else 0
    except ValueError:
        raise StartError(f"lookup tcp/{port_text}: unknown port") from None
    if not 0 <= port <= 65535:
        raise StartError(f"address {address}: invalid port")
    return host, port


def _bind(listen: str) -> socket.socket:
    try:
        host, port = split_address(listen)
    except StartError as exc:
        raise StartError(f"listen tcp: {exc}") from None
    if host == "":
        host = "0.0.0.0"  # an explicit ":port" means every interface, as in Go
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise StartError(f"listen tcp: lookup {host}: no such host") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # Go prefers IPv4
    family, type_, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, type_, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(4096)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise StartError(f"listen tcp {listen}: bind: {reason}") from None
    return sock


def format_address(sockaddr: tuple[object, ...]) -> str:
    host, port = str(sockaddr[0]), int(str(sockaddr[1]))
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Proxy:
    """One named proxy: its listener, live connections and toxic chains."""

    def __init__(self, server: Host, name: str, listen: str, upstream: str) -> None:
        self.server = server
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.chains: dict[bool, list[ToxicSpec]] = {True: [], False: []}
        self.connections: set[Connection] = set()
        self.accepted = 0
        self.closed_bytes: dict[bool, list[int]] = {True: [0, 0], False: [0, 0]}
        self._listener: asyncio.AbstractServer | None = None
        self._next_index = 0

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [t.to_json() for t in self.toxics()],
        }

    def upstream_address(self) -> tuple[str, int]:
        host, port = split_address(self.upstream)
        return host or "127.0.0.1", port

    # -- listener ---------------------------------------------------------------------
    async def start(self) -> None:
        if self.enabled:
            return
        sock = _bind(self.listen)
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(self._new_connection, sock=sock, backlog=4096)
        self.listen = format_address(sock.getsockname())
        self.enabled = True
        log.info("proxy %s listening on %s → %s", self.name, self.listen, self.upstream)

    def _new_connection(self) -> _ClientSide:
        conn = Connection(self, self._next_index)
        self._next_index += 1
        return conn.client

    def stop(self) -> None:
        if not self.enabled:
            return
        self.enabled = False
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for conn in list(self.connections):
            conn.close(abort=True)

    # -- toxics -----------------------------------------------------------------------
    def toxics(self) -> list[ToxicSpec]:
        return [*self.chains[True], *self.chains[False]]

    def find_toxic(self, name: str) -> ToxicSpec | None:
        for spec in self.toxics():
            if spec.name == name:
                return spec
        return None

    def _each_live(self, upstream: bool, action: Callable[[Direction], None]) -> None:
        for conn in list(self.connections):
            if conn.wired and not conn.closed:
                action(conn.up if upstream else conn.down)

    def add_toxic(self, spec: ToxicSpec) -> None:
        self.chains[spec.upstream].append(spec)
        self._each_live(spec.upstream, lambda d: d.add_toxic(spec))

    def update_toxic(self, spec: ToxicSpec, impl: Toxic, toxicity: float) -> None:
        spec.impl = impl
        spec.toxicity = toxicity
        self._each_live(spec.upstream, lambda d: d.update_toxic(spec))

    def remove_toxic(self, spec: ToxicSpec) -> None:
        self.chains[spec.upstream].remove(spec)
        self._each_live(spec.upstream, lambda d: d.remove_toxic(spec))
        spec.impl.removed([t.impl for t in self.toxics()])

    def reset_toxics(self) -> None:
        for spec in self.toxics():
            self.remove_toxic(spec)
