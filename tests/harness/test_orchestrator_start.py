"""Cheap per-example orchestrator resets that stay isolated, a health check that knows
its own child, and no verdict from a URL that is not the orchestrator's."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import time

import pytest
from harness_helpers import naive_spec

from fracas.harness.adapters.process import PortTaken, ProcessAdapter
from fracas.harness.adapters.select import AdapterSpec
from fracas.harness.kit.net import LOOPBACK, listener_in_session
from fracas.harness.kit.waiting import wait_until
from fracas.harness.run.runner import NotAnOrchestratorError, RunOptions, run
from fracas.harness.run.workload import orders

#: Answers GET /healthz 200 and everything else 404, like a fake would on a stolen port.
NOT_AN_ORCHESTRATOR = """
import http.server, os
host, port = os.environ["FRACAS_LISTEN"].rsplit(":", 1)
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        code = 200 if self.path == "/healthz" else 404
        self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
    do_GET = do_POST = answer
    def log_message(self, *a): pass
http.server.HTTPServer((host, int(port)), H).serve_forever()
"""


def _listener() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind((LOOPBACK, 0))
    sock.listen()
    return sock, int(sock.getsockname()[1])


def test_listener_in_session_tells_whose_listener_it_is() -> None:
    sock, port = _listener()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                             start_new_session=True)  # fmt: skip
    try:
        # This process holds the listener; the child's session does not.
        assert listener_in_session(port, child.pid) is False
        sock.close()
        assert listener_in_session(port, child.pid) is None  # nobody listens
    finally:
        child.kill()
        child.wait()


def test_a_taken_port_is_refused_before_the_start(start_topology) -> None:
    topo = start_topology()
    sock, port = _listener()
    try:
        adapter = topo.orchestrator
        assert isinstance(adapter, ProcessAdapter)
        taken = dataclasses.replace(topo._env, listen_port=port)  # type: ignore[type-var]
        adapter.crash()
        with pytest.raises(PortTaken, match=str(port)):
            adapter.start(taken, timeout=10)
    finally:
        sock.close()


def test_a_child_that_loses_its_port_to_a_socket_that_does_not_listen_means_another_port(
    tmp_path,
) -> None:
    """Bound and not listening (another process's socket between its bind and its
    listen, or one gone by the time the exit is seen), the port answers no connect: the
    child's own "address already in use" is what says the port, not the child, failed,
    and the topology then starts it on another."""
    from fracas.harness.adapters.base import OrchestratorEnv

    holder = socket.socket()
    holder.bind((LOOPBACK, 0))  # no listen(): is_listening says no
    port = int(holder.getsockname()[1])
    serve = "import os, socket; h, p = os.environ['FRACAS_LISTEN'].rsplit(':', 1); " \
            "socket.socket().bind((h, int(p)))"  # fmt: skip
    adapter = ProcessAdapter([sys.executable, "-c", serve], name="participant")
    env = OrchestratorEnv({}, LOOPBACK, port, tmp_path, tmp_path / "child.log")
    try:
        with pytest.raises(PortTaken, match=str(port)):
            adapter.start(env, timeout=10)
    finally:
        adapter.stop()
        holder.close()


def test_reset_starts_a_fresh_orchestrator_each_time_from_its_spares(start_topology) -> None:
    topo = start_topology()
    adapter = topo.orchestrator
    seen = []
    for _ in range(3):
        topo.reset()
        seen.append((adapter.pid, topo._env.state_dir))  # type: ignore[union-attr]
        assert adapter.healthy()
    assert len({pid for pid, _ in seen}) == 3  # a new process every example
    assert len({d for _, d in seen}) == 3  # on a new state dir
    assert not seen[0][1].exists()  # the crashed one's state is gone
    result = run(topo, orders(1), [])
    assert result.ok and result.statuses == {"ord-0001": "completed"}


def test_every_submit_refused_with_404_is_a_harness_error(start_topology) -> None:
    spec = AdapterSpec(command=(sys.executable, "-c", NOT_AN_ORCHESTRATOR), source="test")
    topo = start_topology(spec)
    t0 = time.monotonic()
    with pytest.raises(NotAnOrchestratorError, match="404"):
        run(topo, orders(2), [], RunOptions(settle_seconds=30), reset=False)
    assert time.monotonic() - t0 < 10  # no settle time waited out


def test_an_order_lost_by_a_crash_ends_the_settle_early(start_topology) -> None:
    """The naive orchestrator with `amnesia` keeps orders in memory: killed while the
    order is unfinished, it answers 404 for it ever after. Liveness flags it at once,
    not after the whole settle time."""
    topo = start_topology(naive_spec("amnesia"))
    kill = {"fault": {"kind": "kill", "target": "orchestrator"}, "for": 0,
            "when": {"service": "payment", "path": "/payments", "order_id": "ord-0001",
                     "phase": "after_commit"}}  # fmt: skip
    result = run(topo, orders(1), [kill], RunOptions(settle_seconds=45), reset=False)
    assert {v.rule for v in result.verdict.violations} == {"liveness"}
    assert result.timings["settle"] < 10


def test_a_correct_orchestrator_killed_mid_order_still_settles(start_topology) -> None:
    """The early end is only for orders the orchestrator lost: the bundled one, killed
    at the same step, finishes its order."""
    topo = start_topology()
    kill = {"fault": {"kind": "kill", "target": "orchestrator"}, "for": 0,
            "when": {"service": "payment", "path": "/payments", "order_id": "ord-0001",
                     "phase": "after_commit"}}  # fmt: skip
    result = run(topo, orders(1), [kill], RunOptions(settle_seconds=45), reset=False)
    assert result.ok, result.failure_text()
    wait_until(lambda: topo.orchestrator.healthy(), 5, what="orchestrator up")


def test_an_orchestrator_not_declared_quiet_starts_after_the_reset(start_topology) -> None:
    """The naive orchestrator with `probe` takes a payment while starting. No spare of it
    boots during another run, so every run's ledger shows its own start-up's effect."""
    topo = start_topology(naive_spec("probe"))
    for _ in range(2):
        result = run(topo, orders(1), [], RunOptions(settle_seconds=10))
        assert topo._spare_envs == []
        assert "orphan-effects" in {v.rule for v in result.verdict.violations}


#: A 503 on every notify call for order 1, in place all run: the workload phase waits for
#: it (no heal trigger), so only the stuck-review rule can end that phase early.
LASTING_RULE = {"fault": {"kind": "status", "target": "notify",
                          "params": {"method": "POST", "path": "/messages",
                                     "order_id": "ord-0001", "status": 503, "times": 1}},
                "at": 0}  # fmt: skip


def test_a_review_timeout_that_never_fires_ends_both_phases_early(start_topology) -> None:
    """The naive orchestrator with `review-timeout` never checks the review deadline: once
    the harness has jumped its clock past it, the order will wait forever. Liveness flags
    it after a few seconds of each phase, not after the workload and settle limits."""
    topo = start_topology(naive_spec("review-timeout"))
    plans = orders(2, intents=["ok", "review_timeout"])
    t0 = time.monotonic()
    result = run(topo, plans, [LASTING_RULE], RunOptions(settle_seconds=45), reset=False)
    assert {(v.rule, v.order_id) for v in result.verdict.violations} == {("liveness", "ord-0002")}
    assert result.statuses["ord-0002"] == "awaiting_review"
    assert time.monotonic() - t0 < 20  # 120 s workload limit + 45 s settle, otherwise


def test_a_review_that_times_out_is_waited_for(start_topology) -> None:
    """The early end is only for a deadline that never fires: the naive orchestrator with
    no bug fails the order once its clock is past the deadline, in the same run."""
    topo = start_topology(naive_spec())
    plans = orders(2, intents=["ok", "review_timeout"])
    result = run(topo, plans, [LASTING_RULE], RunOptions(settle_seconds=45), reset=False)
    assert result.ok, result.failure_text()
    assert result.statuses == {"ord-0001": "completed", "ord-0002": "failed"}
