"""Overhead of the embedded Toxiproxy server: round-trip latency and streaming.

    .venv/bin/python bench/proxy.py [--rounds 20000] [--mb 400] [--repeat 3]

Starts an upstream (echo / sink / source, uvloop, its own process) and the embedded
server (its own process), creates one proxy with no toxics, and measures from this
process with blocking sockets:

* round trip of a small request (64 bytes), direct and through the proxy, in
  interleaved blocks so machine load hits both alike; p50, p90, p99;
* streaming MB/s client → upstream and upstream → client, direct and proxied.

Each figure is the median over ``--repeat`` runs. ``--floor`` adds a column for a
minimal uvloop forwarder (no API, no toxics, no bookkeeping): the floor for any Python
proxy, which separates what the embedded server costs from what a third process on
the path costs. ``--profile FILE`` runs the proxy under cProfile and writes its stats
to FILE (``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fracas.harness.kit.net import LOOPBACK, free_port, is_listening  # noqa: E402
from fracas.harness.kit.procs import ManagedProcess, python_argv  # noqa: E402

HEADER = 9
BLOCK = 1 << 20


# -- the upstream (runs in its own process) ----------------------------------------------


class _Upstream(asyncio.Protocol):
    """First 9 bytes choose: b'E'+n echo; b'S'+n sink n bytes then reply b'k';
    b'D'+n send n bytes."""

    def __init__(self) -> None:
        self.head = b""
        self.mode = b""
        self.left = 0
        self.paused = False
        self.payload = b"\xab" * (256 * 1024)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.mode:
            self.head += data
            if len(self.head) < HEADER:
                return
            self.mode, self.left = self.head[:1], int.from_bytes(self.head[1:HEADER], "big")
            data, self.head = self.head[HEADER:], b""
            if self.mode == b"D":
                self._produce()
                return
        if self.mode == b"E":
            self.t.write(data)
        elif self.mode == b"S":
            self.left -= len(data)
            if self.left <= 0:
                self.t.write(b"k")

    def _produce(self) -> None:
        while self.left > 0 and not self.paused:
            n = min(self.left, len(self.payload))
            self.t.write(self.payload if n == len(self.payload) else self.payload[:n])
            self.left -= n

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._produce()


def serve_upstream(port: int) -> None:
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Upstream, LOOPBACK, port, backlog=1024)
        async with server:
            await server.serve_forever()

    uvloop.run(main())


class _Forward(asyncio.Protocol):
    """The floor: the least a uvloop Protocol forwarder can do (no API, no toxics,
    no flow control, no bookkeeping). Measured with ``--floor``."""

    def __init__(self, peer: _Forward | None = None, upstream: int = 0) -> None:
        self.peer = peer
        self.upstream = upstream
        self.early = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t: asyncio.Transport = transport  # type: ignore[assignment]
        if self.peer is None:
            asyncio.ensure_future(self._dial())

    async def _dial(self) -> None:
        loop = asyncio.get_running_loop()
        _, up = await loop.create_connection(lambda: _Forward(self), LOOPBACK, self.upstream)
        self.peer = up
        if self.early:
            up.t.write(self.early)

    def data_received(self, data: bytes) -> None:
        if self.peer is None:
            self.early += data
        else:
            self.peer.t.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None:
            self.peer.t.close()


def serve_forwarder(port: int, upstream: int) -> None:
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Forward(None, upstream), LOOPBACK, port, backlog=1024
        )
        async with server:
            await server.serve_forever()

    uvloop.run(main())


# -- the client ----------------------------------------------------------------------------


def _connect(port: int) -> socket.socket:
    s = socket.create_connection((LOOPBACK, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _header(mode: bytes, n: int) -> bytes:
    return mode + n.to_bytes(8, "big")


def round_trips(port: int, rounds: int) -> list[float]:
    msg = b"x" * 64
    out: list[float] = []
    with _connect(port) as s:
        s.sendall(_header(b"E", 0))
        perf = time.perf_counter_ns
        for _ in range(rounds):
            t0 = perf()
            s.sendall(msg)
            got = 0
            while got < 64:
                got += len(s.recv(64 - got))
            out.append((perf() - t0) / 1000.0)
    return out


def stream_up(port: int, nbytes: int) -> float:
    buf = b"\x5a" * BLOCK
    with _connect(port) as s:
        s.sendall(_header(b"S", nbytes))
        t0 = time.perf_counter()
        left = nbytes
        while left > 0:
            n = min(left, BLOCK)
            s.sendall(buf if n == BLOCK else buf[:n])
            left -= n
        assert s.recv(1) == b"k"
        return nbytes / (time.perf_counter() - t0) / 1e6


def stream_down(port: int, nbytes: int) -> float:
    buf = bytearray(BLOCK)
    with _connect(port) as s:
        t0 = time.perf_counter()
        s.sendall(_header(b"D", nbytes))
        left = nbytes
        while left > 0:
            n = s.recv_into(buf)
            if not n:
                raise EOFError("stream ended early")
            left -= n
        return nbytes / (time.perf_counter() - t0) / 1e6


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20000, help="round trips per side per run")
    parser.add_argument("--mb", type=int, default=400, help="MB streamed per direction per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--profile", type=Path, default=None, help="run the proxy under cProfile, write stats here"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure a minimal uvloop forwarder (the floor for any Python proxy)",
    )
    parser.add_argument("--serve-upstream", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--serve-forwarder", type=int, nargs=2, default=None, help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_upstream is not None:
        serve_upstream(args.serve_upstream)
        return 0
    if args.serve_forwarder is not None:
        serve_forwarder(*args.serve_forwarder)
        return 0

    logs = Path(tempfile.mkdtemp(prefix="fracas-bench-"))
    up_port, api_port = free_port(), free_port()
    upstream = ManagedProcess(
        "bench-upstream",
        [sys.executable, __file__, "--serve-upstream", str(up_port)],
        logs / "upstream.log",
    )
    extra = ["--log-level", "WARNING"]
    env = dict(os.environ)
    if args.profile is not None:
        env["FRACAS_TOXIPROXY_PROFILE"] = str(args.profile.resolve())
    proxy_proc = ManagedProcess(
        "bench-toxiproxy",
        python_argv("fracas.harness.toxiproxy", "--port", str(api_port), *extra),
        logs / "toxiproxy.log",
        env=env,
    )
    floor_port = free_port()
    floor = ManagedProcess(
        "bench-floor",
        [sys.executable, __file__, "--serve-forwarder", str(floor_port), str(up_port)],
        logs / "floor.log",
    )
    try:
        upstream.start()
        proxy_proc.start()
        upstream.wait_healthy(lambda: is_listening(up_port))
        if args.floor:
            floor.start()
            floor.wait_healthy(lambda: is_listening(floor_port))
        api = httpx.Client(base_url=f"http://{LOOPBACK}:{api_port}")
        proxy_proc.wait_healthy(lambda: api.get("/version").status_code == 200)
        r = api.post(
            "/proxies",
            json={"name": "bench", "upstream": f"{LOOPBACK}:{up_port}", "listen": f"{LOOPBACK}:0"},
        )
        r.raise_for_status()
        proxy_port = int(r.json()["listen"].rsplit(":", 1)[1])

        quantiles = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
        results: dict[str, list[float]] = defaultdict(list)
        nbytes = args.mb * 1_000_000
        round_trips(proxy_port, 2000)  # warm up
        for run in range(args.repeat):
            ports = {"direct": up_port, "proxy": proxy_port}
            if args.floor:
                ports["floor"] = floor_port
            samples: dict[str, list[float]] = defaultdict(list)
            block = max(1, args.rounds // 10)
            for _ in range(10):
                for side, port in ports.items():
                    samples[side] += round_trips(port, block)
            for side, port in ports.items():
                for name, q in quantiles.items():
                    results[f"{side} {name}"].append(pct(samples[side], q))
                results[f"{side} up"].append(stream_up(port, nbytes))
                results[f"{side} down"].append(stream_down(port, nbytes))
            print(
                f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in results.items()),
                file=sys.stderr,
            )
        med = {k: statistics.median(v) for k, v in results.items()}
        print()
        print(
            f"embedded toxiproxy, no toxics; median of {args.repeat} runs "
            f"({args.rounds} round trips of 64 B, {args.mb} MB streams each); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        print()
        columns = ["direct", "proxy", *(["floor"] if args.floor else [])]
        titles = {"direct": "direct", "proxy": "through proxy", "floor": "minimal forwarder"}
        print("| measure | " + " | ".join(titles[c] for c in columns) + " | added by proxy |")
        print("|---" * (len(columns) + 2) + "|")
        rows = [(f"round trip {n} (µs)", n, ".1f") for n in quantiles]
        rows += [("stream client→upstream (MB/s)", "up", ".0f")]
        rows += [("stream upstream→client (MB/s)", "down", ".0f")]
        for label, key, fmt in rows:
            cells = [format(med[f"{c} {key}"], fmt) for c in columns]
            added = (
                format(med[f"proxy {key}"] - med[f"direct {key}"], fmt) if key in quantiles else ""
            )
            print(f"| {label} | " + " | ".join(cells) + f" | {added} |")
        print()
        print(
            "targets: added p50 ≤ 65 µs; streaming ≥ 180 MB/s (real toxiproxy on this kind of "
            "machine: +65 µs p50, p99 277 µs, 180 MB/s)"
        )
        api.close()
    finally:
        floor.stop()
        proxy_proc.stop()
        upstream.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
