"""Every toxic, observed over real TCP through the server process."""

from __future__ import annotations

import errno
import socket
import time

import pytest
from tp_helpers import (
    ToxiproxyServer,
    Upstream,
    connect,
    median,
    recv_all,
    recv_exactly,
    round_trip,
)

from fracas.harness.kit.waiting import wait_until


def test_no_toxic_passes_bytes_both_ways(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("plain", upstream.echo_port)
    payload = bytes(range(256)) * 4096  # 1 MiB, not a multiple of any buffer size
    with connect(port) as s:
        s.sendall(payload[:1000])
        assert recv_exactly(s, 1000) == payload[:1000]
        # Larger than socket buffers both ways: flow control must not lose or stall.
        import threading

        sender = threading.Thread(target=s.sendall, args=(payload,))
        sender.start()
        assert recv_exactly(s, len(payload)) == payload
        sender.join()


@pytest.mark.parametrize("stream", ["downstream", "upstream"])
def test_latency_adds_its_delay_per_round_trip(
    tp: ToxiproxyServer, upstream: Upstream, stream: str
) -> None:
    """Every round trip is at least 100 ms late, and only once (not once each way).
    Measured as the median minus a base round trip, the delay read 77 ms with both cores
    busy: a base round trip waits for the CPU, a delayed one waits out its timer."""
    port = tp.proxy("lat", upstream.echo_port)
    with connect(port) as s:
        base = median([round_trip(s) for _ in range(5)])
        tp.toxic("lat", "latency", stream=stream, latency=100)
        delayed = [round_trip(s) for _ in range(5)]
    assert min(delayed) >= 0.098, f"a round trip of {min(delayed) * 1000:.1f} ms, expected >= 100"
    added = median(delayed) - base
    assert added < 0.150, f"added {added * 1000:.1f} ms, expected 100 (200: once each way)"


def test_latency_pipelines_chunks(tp: ToxiproxyServer, upstream: Upstream) -> None:
    """Delays count from when each chunk was read: 5 chunks sent 20 ms apart arrive
    20 ms apart, 100 ms late, not 500 ms late."""
    port = tp.proxy("lat", upstream.echo_port)
    tp.toxic("lat", "latency", latency=100)
    with connect(port) as s:
        start = time.perf_counter()
        for i in range(5):
            s.sendall(b"%d" % i)
            time.sleep(0.02)  # the traffic pattern under test, not synchronisation
        recv_exactly(s, 5)
        total = time.perf_counter() - start
    assert 0.180 <= total <= 0.260, total


def test_latency_jitter_stays_in_bounds(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("jit", upstream.echo_port)
    tp.toxic("jit", "latency", latency=60, jitter=40)
    with connect(port) as s:
        samples = [round_trip(s) for _ in range(15)]
    assert min(samples) >= 0.020, samples
    assert median(samples) <= 0.100 + 0.010, samples
    assert max(samples) - min(samples) >= 0.020, "jitter had no visible effect"


def test_bandwidth_paces_to_the_rate(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("bw", upstream.sink_port)
    tp.toxic("bw", "bandwidth", stream="upstream", rate=300)  # 300 KB/s
    payload = b"x" * 300_000
    before = len(upstream.received)
    with connect(port) as s:
        start = time.perf_counter()
        s.sendall(payload)
        wait_until(
            lambda: (
                len(upstream.received) > before and len(upstream.received[before]) >= len(payload)
            ),
            timeout=10,
            interval=0.005,
            what="all bytes at upstream",
        )
        elapsed = time.perf_counter() - start
    assert 0.9 <= elapsed <= 1.1, f"300 KB at 300 KB/s took {elapsed:.3f}s"


def test_bandwidth_downstream(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("bw", upstream.echo_port)
    tp.toxic("bw", "bandwidth", rate=200)
    payload = b"y" * 100_000
    with connect(port) as s:
        start = time.perf_counter()
        s.sendall(payload)
        assert recv_exactly(s, len(payload)) == payload
        elapsed = time.perf_counter() - start
    assert 0.45 <= elapsed <= 0.55, elapsed


def test_slow_close_holds_the_close(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("sc", upstream.hello_port)
    tp.toxic("sc", "slow_close", delay=300)
    with connect(port) as s:
        assert recv_exactly(s, 5) == b"hello"
        start = time.perf_counter()
        assert recv_all(s) == b""
        waited = time.perf_counter() - start
    assert 0.28 <= waited <= 0.36, waited


def test_timeout_drops_data_and_closes_on_time(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("to", upstream.echo_port)
    tp.toxic("to", "timeout", timeout=300)
    start = time.perf_counter()
    with connect(port) as s:
        s.sendall(b"lost")
        assert recv_all(s) == b""  # nothing echoed, then EOF
        elapsed = time.perf_counter() - start
    assert 0.29 <= elapsed <= 0.36, elapsed


def test_timeout_zero_never_closes_until_removed(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("to", upstream.echo_port)
    tp.toxic("to", "timeout", stream="upstream", timeout=0)
    with connect(port) as s:
        s.settimeout(0.3)
        s.sendall(b"lost")
        with pytest.raises(TimeoutError):
            s.recv(10)
        s.settimeout(5)
        assert tp.http.delete("/proxies/to/toxics/timeout_upstream").status_code == 204
        assert recv_all(s) == b""  # removing a timeout closes the connection


def _received(tp: ToxiproxyServer, proxy: str, direction: str) -> int:
    for line in tp.http.get("/metrics").text.splitlines():
        if line.startswith("toxiproxy_proxy_received_bytes_total{") and \
                f'direction="{direction}"' in line and f'proxy="{proxy}"' in line:
            return int(line.rsplit(" ", 1)[1])
    return 0


def test_reset_peer_removed_while_it_waits_still_resets(
    tp: ToxiproxyServer, upstream: Upstream
) -> None:
    """Once reset_peer dropped data the reset is certain (Toxiproxy's wait ignores an
    interrupt). Let go on at its removal, the bytes after the gap went through: an HTTP
    request's body without its head, which the server answered 400."""
    port = tp.proxy("rst", upstream.echo_port)
    tp.toxic("rst", "reset_peer", stream="upstream", timeout=30000)
    with connect(port) as s:
        s.sendall(b"head")
        wait_until(lambda: _received(tp, "rst", "upstream") >= 4, 10, what="the head read")
        assert tp.http.delete("/proxies/rst/toxics/reset_peer_upstream").status_code == 204
        got = b""
        with pytest.raises(ConnectionResetError):
            s.sendall(b"body")
            s.settimeout(10)
            while chunk := s.recv(100):
                got += chunk
    assert got == b""


@pytest.mark.parametrize("stream", ["downstream", "upstream"])
def test_reset_peer_is_a_real_rst(tp: ToxiproxyServer, upstream: Upstream, stream: str) -> None:
    port = tp.proxy("rst", upstream.echo_port)
    tp.toxic("rst", "reset_peer", stream=stream, timeout=100)
    with connect(port) as s:
        start = time.perf_counter()
        s.sendall(b"boom")
        with pytest.raises(ConnectionResetError) as info:
            while s.recv(100):
                pass
        elapsed = time.perf_counter() - start
    assert info.value.errno == errno.ECONNRESET
    assert 0.095 <= elapsed <= 0.2, elapsed


def test_limit_data_cuts_at_exactly_the_byte(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("lim", upstream.echo_port)
    tp.toxic("lim", "limit_data", bytes=100)
    with connect(port) as s:
        s.sendall(b"a" * 60)
        assert recv_exactly(s, 60) == b"a" * 60
        s.sendall(b"b" * 90)
        assert recv_all(s) == b"b" * 40


def test_limit_data_upstream(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("lim", upstream.sink_port)
    tp.toxic("lim", "limit_data", stream="upstream", bytes=1000)
    before = len(upstream.received)
    with connect(port) as s:
        s.sendall(bytes(range(256)) * 10)
        assert recv_all(s) == b""
    wait_until(
        lambda: len(upstream.received) > before and upstream.open == 0,
        5,
        what="upstream saw the connection and its close",
    )
    assert bytes(upstream.received[before]) == (bytes(range(256)) * 10)[:1000]


def test_slicer_cuts_into_pieces(tp: ToxiproxyServer, upstream: Upstream) -> None:
    """With no variation every piece is exactly average_size; a receiver may still
    coalesce pieces, so every read must be a whole number of pieces."""
    port = tp.proxy("sl", upstream.echo_port)
    tp.toxic("sl", "slicer", average_size=10, size_variation=0, delay=2000)
    payload = bytes(range(250)) * 2
    with connect(port) as s:
        s.sendall(payload)
        reads: list[int] = []
        got = bytearray()
        while len(got) < len(payload):
            data = s.recv(65536)
            assert data
            reads.append(len(data))
            got.extend(data)
    assert bytes(got) == payload
    assert all(n % 10 == 0 for n in reads), reads
    assert len(reads) >= 10, reads


def test_noop_passes_through(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("noop", upstream.echo_port)
    tp.toxic("noop", "noop")
    tp.toxic("noop", "noop", stream="upstream")
    with connect(port) as s:
        for size in (1, 1000, 200_000):
            s.sendall(b"n" * size)
            assert recv_exactly(s, size) == b"n" * size


def test_toxics_chain_in_creation_order(tp: ToxiproxyServer, upstream: Upstream) -> None:
    """limit_data then slicer: the limit counts unsliced bytes; two latencies add up."""
    port = tp.proxy("chain", upstream.echo_port)
    tp.toxic("chain", "latency", name="l1", latency=50)
    tp.toxic("chain", "latency", name="l2", latency=50)
    tp.toxic("chain", "limit_data", name="lim", bytes=25)
    tp.toxic("chain", "slicer", name="sl", average_size=5, delay=1000)
    with connect(port) as s:
        start = time.perf_counter()
        s.sendall(b"z" * 40)
        assert recv_all(s) == b"z" * 25
        elapsed = time.perf_counter() - start
    assert 0.095 <= elapsed <= 0.16, elapsed


def test_toxicity_zero_never_applies(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("tox", upstream.echo_port)
    tp.toxic("tox", "timeout", toxicity=0.0, timeout=0)
    with connect(port) as s:
        round_trip(s)


def test_upstream_refused_closes_client(tp: ToxiproxyServer) -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    port = tp.proxy("dead", dead_port)
    with connect(port) as s:
        assert recv_all(s) == b""
