"""The bundled orchestrator in a hostile environment (issue 21): its state dir on a disk
that fills up, or on one mounted read-only, and its port taken by another program.
Each is said in one line; after a full disk it stops (a crash, which it survives), and
once the space is back it restarts on an intact state file and finishes every order it
accepted. The disk is a small tmpfs (tests/disks.py)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from orch_helpers import Orchestrator, assert_consistent, happy_orders, judge

from fracas.harness.kit.procs import ProcessFailed
from fracas.harness.kit.waiting import wait_until
from fracas.orchestrator.storage import EXIT_STORAGE
from tests.disks import fill, integrity, read_only, small_disk


def _submit_until_it_stops(orch: Orchestrator, orders: list[dict[str, object]]) -> list[str]:
    """The ids answered 202 before the orchestrator stopped: those must survive."""
    accepted = []
    for order in orders:
        try:
            r = orch.submit(order)
        except httpx.TransportError:
            break
        if r.status_code == 202:
            accepted.append(str(order["order_id"]))
    wait_until(lambda: not orch.process.alive, 30.0, what="the orchestrator to stop")
    return accepted


def test_a_full_disk_stops_it_in_one_line_and_a_restart_finishes_the_orders(
    start_orchestrator: Callable[..., Orchestrator], tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        state = disk / "orchestrator"
        orch = start_orchestrator(env={"FRACAS_STATE_DIR": str(state)})
        done = happy_orders(3, "full-a")
        for order in done:
            assert orch.submit(order).status_code == 202
        orch.wait_terminal([o["order_id"] for o in done])
        running = happy_orders(5, "full-r", seed=3)  # accepted, their sagas under way
        for order in running:
            assert orch.submit(order).status_code == 202
        before = [*done, *running]
        filler = fill(disk)
        during = happy_orders(200, "full-b", seed=2)
        accepted = _submit_until_it_stops(orch, during)
        assert orch.process.returncode == EXIT_STORAGE
        log = orch.process.log_tail()
        assert f"orchestrator: cannot write its state in {state}: database or disk is full" in log
        assert "Traceback" not in log

        filler.unlink()
        orch.start()
        known = [o for o in during if orch.http.get(f"/orders/{o['order_id']}").status_code == 200]
        assert {str(o["order_id"]) for o in known} >= set(accepted)
        orch.wait_terminal([o["order_id"] for o in [*before, *known]])
        assert_consistent(judge(orch, [*before, *known]))
        orch.process.stop()
        assert integrity(state / "orchestrator.sqlite3") == "ok"


def test_a_read_only_state_dir_is_one_line(
    start_orchestrator: Callable[..., Orchestrator], tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        read_only(disk)
        state = disk / "orchestrator"
        with pytest.raises(ProcessFailed) as failed:
            start_orchestrator(env={"FRACAS_STATE_DIR": str(state)})
    message = str(failed.value)
    assert f"orchestrator: cannot write its state in {state}: read-only file system" in message
    assert "Traceback" not in message


def test_a_port_taken_by_another_program_is_one_line(
    start_orchestrator: Callable[..., Orchestrator],
) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(ProcessFailed) as failed:
            start_orchestrator(env={"FRACAS_LISTEN": f"127.0.0.1:{port}"})
    message = str(failed.value)
    assert (
        f"orchestrator: cannot listen on FRACAS_LISTEN 127.0.0.1:{port}: address already in use"
        " (another program is listening there)"
    ) in message
    assert "Traceback" not in message
