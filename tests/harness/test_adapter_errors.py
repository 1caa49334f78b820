"""The process adapter's errors are the protocol's: with the orchestrator down, the calls
that need an answer raise OrchestratorUnreachable (an AdapterError), never an httpx
exception, and the calls that never raise say so in their value."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from fracas.harness.adapters import (
    AdapterError,
    OrchestratorEnv,
    OrchestratorUnreachable,
    ProcessAdapter,
)
from fracas.harness.kit.net import LOOPBACK, free_port

#: Answers GET /healthz and nothing else: enough to be started, then crashed.
HEALTHY_ONLY = """
import http.server, os
host, port = os.environ["FRACAS_LISTEN"].rsplit(":", 1)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer((host, int(port)), H).serve_forever()
"""


def test_a_crashed_orchestrator_is_unreachable_in_the_protocols_words(tmp_path: Path) -> None:
    script = tmp_path / "orch.py"
    script.write_text(HEALTHY_ONLY)
    adapter = ProcessAdapter([sys.executable, str(script)], clock_path="/clock")
    env = OrchestratorEnv({}, LOOPBACK, free_port(), tmp_path / "state", tmp_path / "o.log")
    assert adapter.healthy() is False  # not started: False, not an exception
    adapter.start(env, timeout=15)
    try:
        assert adapter.status("ord-0001") is None  # it answers 404
        assert adapter.process is not None and adapter.process.alive
        adapter.crash()
        assert not adapter.process.alive
        for call in (lambda: adapter.status("ord-0001"),
                     lambda: adapter.review("ord-0001", "approve"),
                     lambda: adapter.advance_clock(1.0)):
            with pytest.raises(OrchestratorUnreachable) as caught:
                call()
            assert isinstance(caught.value, AdapterError)
            assert not isinstance(caught.value, httpx.HTTPError)
        sent = adapter.submit({"order_id": "ord-0001"})
        assert sent.status_code is None and sent.error and not sent.accepted
        assert adapter.healthy() is False
    finally:
        adapter.stop()
