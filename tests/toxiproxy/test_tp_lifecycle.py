"""Lifecycle rules: disable/enable/delete, live toxic changes, /reset, closing."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from tp_helpers import ToxiproxyServer, Upstream, connect, recv_exactly, round_trip

from fracas.harness.kit.waiting import wait_until


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def test_disable_closes_live_connections_and_refuses_new(
    tp: ToxiproxyServer, upstream: Upstream
) -> None:
    port = tp.proxy("d", upstream.echo_port)
    tp.toxic("d", "latency", latency=20)
    live = connect(port)
    round_trip(live)
    assert tp.http.patch("/proxies/d", json={"enabled": False}).json()["enabled"] is False
    assert _closed(live)
    live.close()
    with pytest.raises(ConnectionRefusedError):
        connect(port).close()
    # enable: same address, toxics survived
    body = tp.http.patch("/proxies/d", json={"enabled": True}).json()
    assert body["listen"] == f"127.0.0.1:{port}"
    assert [t["name"] for t in body["toxics"]] == ["latency_downstream"]
    with connect(port) as s:
        assert round_trip(s) >= 0.018


def test_delete_closes_connections_and_listener(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("del", upstream.echo_port)
    live = connect(port)
    round_trip(live)
    assert tp.http.delete("/proxies/del").status_code == 204
    assert _closed(live)
    live.close()
    with pytest.raises(ConnectionRefusedError):
        connect(port).close()


def test_upstream_change_closes_connections(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("u", upstream.echo_port)
    live = connect(port)
    round_trip(live)
    r = tp.http.patch("/proxies/u", json={"upstream": f"127.0.0.1:{upstream.hello_port}"})
    assert r.status_code == 200 and r.json()["enabled"]
    assert _closed(live)
    live.close()
    with connect(port) as s:
        assert recv_exactly(s, 5) == b"hello"


def test_toxic_added_to_live_connection_applies_at_once(
    tp: ToxiproxyServer, upstream: Upstream
) -> None:
    port = tp.proxy("live", upstream.echo_port)
    with connect(port) as s:
        assert round_trip(s) < 0.05
        tp.toxic("live", "latency", latency=100)
        assert round_trip(s) >= 0.098
        tp.http.patch(
            "/proxies/live/toxics/latency_downstream", json={"attributes": {"latency": 200}}
        )
        assert round_trip(s) >= 0.198
        tp.http.delete("/proxies/live/toxics/latency_downstream")
        assert round_trip(s) < 0.05


def test_removing_a_toxic_flushes_what_it_held(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("hold", upstream.echo_port)
    tp.toxic("hold", "bandwidth", rate=0)  # holds everything, forever
    with connect(port) as s:
        s.sendall(b"first")
        s.settimeout(0.3)
        with pytest.raises(TimeoutError):
            s.recv(100)
        s.settimeout(5)
        s.sendall(b"second")
        start = time.perf_counter()
        assert tp.http.delete("/proxies/hold/toxics/bandwidth_downstream").status_code == 204
        assert recv_exactly(s, 11) == b"firstsecond"
        assert time.perf_counter() - start < 0.5
        round_trip(s)


def test_remove_latency_releases_held_chunks_early(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("lat", upstream.echo_port)
    tp.toxic("lat", "latency", latency=2000)
    with connect(port) as s:
        start = time.perf_counter()
        s.sendall(b"x")
        wait_until(lambda: tp.stats()["tasks"] >= 2, 5, what="pipeline running")
        tp.http.delete("/proxies/lat/toxics/latency_downstream")
        assert recv_exactly(s, 1) == b"x"
        assert time.perf_counter() - start < 1.0


def test_byte_order_survives_live_chain_changes(tp: ToxiproxyServer, upstream: Upstream) -> None:
    """Stream through the proxy while toxics come and go: lean ↔ toxic switches and
    rewiring must neither lose, duplicate nor reorder a byte."""
    port = tp.proxy("order", upstream.echo_port)
    payload = bytes(i % 251 for i in range(6_000_000))
    with connect(port, timeout=30) as s:

        def send() -> None:
            view = memoryview(payload)
            for i in range(0, len(payload), 7919):
                s.sendall(view[i : i + 7919])

        sender = threading.Thread(target=send)
        sender.start()
        got = bytearray()
        changes = 0
        while len(got) < len(payload):
            data = s.recv(65536)
            assert data
            got.extend(data)
            while changes < 40 and len(got) > changes * 100_000:
                stream = "upstream" if changes % 2 else "downstream"
                kind = ("noop", "latency", "slicer")[changes % 3]
                attrs = {"average_size": 3000, "size_variation": 1000} if kind == "slicer" else {}
                name = f"t{changes}"
                tp.toxic("order", kind, stream=stream, name=name, **attrs)
                if changes % 4 == 3:
                    tp.http.patch(f"/proxies/order/toxics/{name}", json={"toxicity": 1.0})
                if changes >= 2:
                    tp.http.delete(f"/proxies/order/toxics/t{changes - 2}")
                changes += 1
        sender.join()
    assert changes == 40
    assert got == payload


def test_reset_reenables_and_strips_toxics_live(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("r", upstream.echo_port)
    with connect(port) as s:
        tp.toxic("r", "latency", latency=150)
        assert round_trip(s) >= 0.148
        assert tp.http.post("/reset").status_code == 204
        assert round_trip(s) < 0.1
    tp.http.patch("/proxies/r", json={"enabled": False})
    tp.http.post("/reset")
    with connect(port) as s:
        round_trip(s)


def test_client_close_closes_upstream(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("c", upstream.echo_port)
    before = upstream.accepted
    s = connect(port)
    round_trip(s)
    wait_until(lambda: upstream.accepted > before and upstream.open >= 1, 5, what="upstream open")
    s.close()
    wait_until(lambda: upstream.open == 0, 5, what="upstream closed after client closed")
    tp.wait_idle()


def test_upstream_close_closes_client(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("h", upstream.hello_port)
    tp.toxic("h", "noop", stream="upstream")
    with connect(port) as s:
        assert recv_exactly(s, 5) == b"hello"
        assert _closed(s)


def test_limit_data_count_survives_an_update(tp: ToxiproxyServer, upstream: Upstream) -> None:
    port = tp.proxy("lim", upstream.echo_port)
    tp.toxic("lim", "limit_data", bytes=10)
    with connect(port) as s:
        s.sendall(b"a" * 5)
        assert recv_exactly(s, 5) == b"a" * 5
        r = tp.http.patch(
            "/proxies/lim/toxics/limit_data_downstream", json={"attributes": {"bytes": 20}}
        )
        assert r.json()["attributes"] == {"bytes": 20}
        s.sendall(b"b" * 10)
        assert recv_exactly(s, 10) == b"b" * 10
        s.sendall(b"c" * 10)
        assert recv_exactly(s, 5) == b"c" * 5
        assert _closed(s)


def test_an_api_port_taken_by_another_program_is_one_line(tmp_path: Path) -> None:
    """It was a traceback out of asyncio; now one line, and the fakes' exit code for it."""
    from fracas.fakes.contract import EXIT_PORT_TAKEN
    from fracas.harness.kit.procs import ProcessFailed

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        server = ToxiproxyServer(tmp_path, extra=("--port", str(port)))
        with pytest.raises(ProcessFailed) as failed:
            server.start()
        server.stop()
    assert server.process.returncode == EXIT_PORT_TAKEN
    message = str(failed.value)
    assert (
        f"toxiproxy: cannot listen on 127.0.0.1:{port}: address already in use"
        " (another program is listening there)"
    ) in message
    assert "Traceback" not in message
