"""1,000 concurrent connections through one proxy with a latency toxic."""

from __future__ import annotations

import asyncio
import time

from tp_helpers import ToxiproxyServer, Upstream

from fracas.harness.kit.net import LOOPBACK
from fracas.harness.kit.waiting import wait_until

N = 1000


async def _run(port: int, tp: ToxiproxyServer, upstream: Upstream) -> float:
    conns = await asyncio.gather(*(asyncio.open_connection(LOOPBACK, port) for _ in range(N)))
    # every connection is open at once, end to end
    await asyncio.to_thread(
        wait_until,
        lambda: upstream.open >= N and tp.stats()["connections"] == N,
        30,
        0.05,
        f"{N} connections open at the upstream",
    )
    start = time.perf_counter()
    for i, (_, writer) in enumerate(conns):
        writer.write(b"%06d" % i)

    async def check(i: int, reader: asyncio.StreamReader) -> None:
        assert await reader.readexactly(6) == b"%06d" % i

    await asyncio.wait_for(asyncio.gather(*(check(i, r) for i, (r, _) in enumerate(conns))), 30)
    elapsed = time.perf_counter() - start
    for _, writer in conns:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for _, w in conns), return_exceptions=True)
    return elapsed


def test_thousand_concurrent_connections(tp: ToxiproxyServer, upstream: Upstream) -> None:
    wait_until(lambda: upstream.open == 0, 10, what="earlier tests' upstream sockets closed")
    port = tp.proxy("many", upstream.echo_port)
    tp.toxic("many", "latency", latency=50)
    elapsed = asyncio.run(_run(port, tp, upstream))
    assert elapsed >= 0.049  # every reply was delayed
    stats = tp.wait_idle(timeout=20)
    assert stats["proxies"]["many"]["accepted"] == N
    wait_until(lambda: upstream.open == 0, 20, what="upstream saw every close")
    metrics = tp.http.get("/metrics").text
    assert "fracas_open_sockets 0" in metrics and "fracas_tasks 0" in metrics
    assert f'direction="upstream",listener="127.0.0.1:{port}"' in metrics
