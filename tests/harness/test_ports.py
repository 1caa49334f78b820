"""Ports: chosen where the kernel does not hand them out by itself, and a fake whose port
was taken anyway comes back on another (CI saw a fake die with EADDRINUSE when another
xdist worker's proxy was given the port between free_port and the fake's bind)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from fracas.fakes.contract import EXIT_PORT_TAKEN
from fracas.harness.kit import net
from fracas.harness.kit.net import LOOPBACK, free_port
from fracas.harness.run.services import (
    FakeProcess,
    PortTaken,
    spawn_fake,
    wait_fakes_healthy,
)


def _listen(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.listen()
    return sock


def test_free_ports_lie_below_the_ephemeral_range_and_do_not_repeat() -> None:
    span = net._ephemeral_range()
    if span is None or span[0] - net._FLOOR < 2000:
        pytest.skip("no room below the kernel's ephemeral range on this machine")
    ports = [free_port() for _ in range(200)]
    assert all(net._FLOOR <= p < span[0] for p in ports), ports
    assert len(set(ports)) == len(ports)


def test_a_port_in_use_is_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    held = _listen(0)
    taken = int(held.getsockname()[1])
    # The taken port is drawn first; after it, ports drawn as usual: a fixed second
    # choice (taken + 1) was itself in use (TIME_WAIT) on a busy machine now and then.
    first, draw = iter([taken]), net._random.randrange
    monkeypatch.setattr(net._random, "randrange", lambda a, b: next(first, None) or draw(a, b))
    monkeypatch.setattr(net, "_ephemeral_range", lambda: (net._FLOOR + 10_000, 60999))
    try:
        assert free_port() != taken
    finally:
        held.close()


def test_a_fake_on_a_taken_port_exits_with_its_own_code(tmp_path: Path) -> None:
    held = _listen(0)
    port = int(held.getsockname()[1])
    try:
        fake = spawn_fake("crm", tmp_path / "crm", port=port)
        with pytest.raises(PortTaken, match="taken by another process"):
            fake.wait_healthy(15.0)
        assert fake.process.returncode == EXIT_PORT_TAKEN
    finally:
        held.close()


def test_a_fake_whose_port_another_process_answers_health_on_is_not_taken_for_healthy(
    tmp_path: Path,
) -> None:
    """Another process took the port first and answers GET /healthz 200 there (a
    choreography participant of another xdist worker did): the fake exits with its port
    taken, and that answer is not the fake's."""
    import http.server
    import threading

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    other = http.server.HTTPServer((LOOPBACK, 0), Health)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        fake = spawn_fake("crm", tmp_path / "crm", port=int(other.server_address[1]))
        assert fake.healthy()  # the other process's answer, on the fake's URL
        with pytest.raises(PortTaken, match="taken by another process"):
            fake.wait_healthy(15.0)
        assert fake.process.returncode == EXIT_PORT_TAKEN
    finally:
        other.shutdown()
        other.server_close()


def test_a_fake_whose_port_was_taken_starts_again_on_another(tmp_path: Path) -> None:
    held = _listen(0)
    port = int(held.getsockname()[1])
    fakes = {
        "crm": spawn_fake("crm", tmp_path / "crm", port=port, log_dir=tmp_path),
        "notify": spawn_fake("notify", tmp_path / "notify", log_dir=tmp_path),
    }
    ready: dict[str, FakeProcess] = {}
    try:
        ready = wait_fakes_healthy(fakes, 15.0)
        assert ready["crm"].port != port
        assert ready["crm"].healthy() and ready["notify"].healthy()
        assert ready["notify"] is fakes["notify"]
    finally:
        held.close()
        for fake in [*fakes.values(), *ready.values()]:
            fake.process.kill()
