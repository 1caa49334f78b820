"""Seeded runs repeat: same seed, same jitter and toxicity decisions."""

from __future__ import annotations

import random
from collections.abc import Callable

from tp_helpers import ToxiproxyServer, Upstream, connect, round_trip

from fracas.harness.toxiproxy.server import Server
from fracas.harness.toxiproxy.toxics.slicer import slice_sizes


def _observe(server: ToxiproxyServer, upstream: Upstream) -> tuple[list[bool], list[float]]:
    """Toxicity decisions of 12 connections, and 8 jittered delays on one connection."""
    coin = server.proxy("coin", upstream.echo_port)
    server.toxic("coin", "latency", toxicity=0.5, latency=300)
    decisions = []
    for _ in range(12):
        with connect(coin) as s:
            decisions.append(round_trip(s) > 0.15)
    jit = server.proxy("jit", upstream.echo_port)
    # Wide: a loaded machine adds tens of ms to a round trip, never takes any away.
    server.toxic("jit", "latency", latency=300, jitter=270)
    with connect(jit) as s:
        delays = [round_trip(s) for _ in range(8)]
    return decisions, delays


def test_same_seed_same_rolls(
    start_server: Callable[..., ToxiproxyServer], upstream: Upstream
) -> None:
    first = _observe(start_server(seed=1234), upstream)
    second = _observe(start_server(seed=1234), upstream)
    other = _observe(start_server(seed=99), upstream)
    assert first[0] == second[0]
    assert True in first[0] and False in first[0]
    # Same rolls: the delays agree within 80 ms (the rolls spread over 540 ms); a busy
    # machine may stretch one or two round trips further, never most of them.
    same = [abs(a - b) < 0.08 for a, b in zip(first[1], second[1], strict=True)]
    assert sum(same) >= 6, (first, second)
    assert max(first[1]) - min(first[1]) > 0.15
    differs_in_decisions = first[0] != other[0]
    differs_in_jitter = any(abs(a - b) > 0.15 for a, b in zip(first[1], other[1], strict=True))
    assert differs_in_decisions or differs_in_jitter


def test_rng_is_per_connection_and_direction() -> None:
    """Rolls depend on (seed, proxy, connection number, direction) only, so they do
    not change with how connections interleave."""
    server = Server(seed=5)
    a = server.rng_for("p", 3, "upstream").random()
    assert a == Server(seed=5).rng_for("p", 3, "upstream").random()
    assert a != server.rng_for("p", 3, "downstream").random()
    assert a != server.rng_for("p", 4, "upstream").random()
    assert a != Server(seed=6).rng_for("p", 3, "upstream").random()


def test_slice_sizes_stay_in_bounds() -> None:
    rng = random.Random(0)
    for total in (0, 1, 7, 10, 15, 16, 1000, 65536):
        sizes = slice_sizes(total, 10, 5, rng)
        assert sum(sizes) == total
        assert all(5 <= n <= 15 for n in sizes[:-1])
        assert all(1 <= n <= 15 for n in sizes)
    assert slice_sizes(100, 10, 0, rng) == [10] * 10


def test_toxicity_rerolls_when_the_chain_changes(
    start_server: Callable[..., ToxiproxyServer], upstream: Upstream
) -> None:
    """One live connection, a 50 % latency toxic, and a noop toggled in the same
    direction: each change rolls again, so the latency comes and goes."""
    server = start_server(seed=3)
    port = server.proxy("flip", upstream.echo_port)
    server.toxic("flip", "latency", toxicity=0.5, latency=80)
    seen = []
    with connect(port) as s:
        for i in range(12):
            seen.append(round_trip(s) > 0.04)
            if i % 2 == 0:
                server.toxic("flip", "noop", name="toggle")
            else:
                assert server.http.delete("/proxies/flip/toxics/toggle").status_code == 204
    assert True in seen and False in seen, seen
