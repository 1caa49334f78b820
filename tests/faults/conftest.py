"""Real processes for the fault tests: a toxiproxy server, an upstream, a rules stand-in.

Everything is started per test and stopped in teardown; an autouse check makes sure no
child process of ours outlives its test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from faults_support import Upstream, our_children, start_upstream

from fracas.harness.kit.net import LOOPBACK
from fracas.harness.kit.waiting import wait_until


@pytest.fixture(autouse=True)
def no_leaked_children() -> Iterator[None]:
    before = our_children()
    yield
    wait_until(lambda: not (our_children() - before), 5, what="child processes gone")


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[Upstream]:
    up = start_upstream(tmp_path)
    yield up
    up.process.stop()


@pytest.fixture
def toxiproxy_url(tmp_path: Path) -> Iterator[str]:
    """A running toxiproxy server for the test: whichever backend the environment names
    (FRACAS_FAULT_BACKEND, TOXIPROXY_URL), fracas's embedded one by default."""
    from fracas.harness.backends import make_backend
    from fracas.harness.kit.toxiclient import ToxiClient

    backend = make_backend(seed=1, log_dir=tmp_path / "toxiproxy")
    url = backend.start()
    with ToxiClient(url) as client:
        before = set(client.proxies())
    yield url
    with ToxiClient(url) as client:  # a shared server is left as the test found it
        for name in set(client.proxies()) - before:
            client.delete_proxy(name)
    backend.stop()


@dataclass
class RulesRecorder:
    """A stand-in fake admin API with only the contract's GET/PUT/DELETE /_fracas/faults
    (no POST of one rule, no DELETE by id), strict like the fakes about what is PUT."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    puts: list[Any] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


@pytest.fixture
def rules_recorder() -> Iterator[RulesRecorder]:
    rec = RulesRecorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            view = [{**r, "matched": 0, "fired": 0, "retired": False} for r in rec.rules]
            self._send(200, {"rules": view})

        def do_PUT(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            rec.puts.append(body)
            for rule in body["rules"]:
                if {"matched", "fired", "retired"} & set(rule):
                    self._send(422, {"detail": "view-only keys sent back"})
                    return
            rec.rules = list(body["rules"])
            self._send(200, {"rules": rec.rules})

        def do_DELETE(self) -> None:
            if self.path != "/_fracas/faults":  # only the contract's minimum
                self._send(404, {"detail": "no such route"})
                return
            rec.rules = []
            self._send(200, {"rules": []})

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(5)
