"""A fake in a hostile environment (issue 21): a full disk under its ledger, a read-only
state dir, a start too slow for the harness. Each gets a clear error, and the ledger is
whole again once the space is back. The disk is a small tmpfs (tests/disks.py)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from fracas.fakes.world import OK_TOKEN
from fracas.harness.kit.procs import ProcessFailed
from fracas.harness.run.services import spawn_fake
from tests.disks import fill, integrity, read_only, small_disk


def _capture(http: httpx.Client, i: int) -> httpx.Response:
    body = {"order_id": f"ord-{i}", "amount_cents": 100, "currency": "EUR", "card_token": OK_TOKEN}
    return http.post("/payments", json=body, headers={"Idempotency-Key": f"key-{i}"})


def test_a_full_disk_is_a_507_and_the_ledger_is_whole_after(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        fake = spawn_fake("payment", disk / "payment", 7, log_dir=tmp_path).wait_healthy(30.0)
        try:
            with httpx.Client(base_url=fake.url, timeout=10.0) as http:
                answers = Counter(_capture(http, i).status_code for i in range(3))
                filler = fill(disk)
                refused = _capture(http, 3)
                assert refused.status_code == 507, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
                assert refused.json()["type"] == "ledger-unwritable"
                assert "database or disk is full" in refused.json()["detail"]
                # it still serves what needs no write, and says nothing was done
                assert http.get("/healthz").status_code == 200
                assert len(http.get("/_fracas/state").json()["tables"]["payments"]) == 3
                filler.unlink()
                again = _capture(http, 3)  # the same key: nothing was stored under it
                assert again.status_code == 201 and "idempotent-replayed" not in again.headers
                answers[again.status_code] += 1
                payments = http.get("/_fracas/state").json()["tables"]["payments"]
        finally:
            fake.stop()
        assert answers == {201: 4} and len(payments) == 4
        assert integrity(disk / "payment" / "payment.sqlite3") == "ok"
    log = (tmp_path / "payment.log").read_text()
    assert "ledger write refused: database or disk is full" in log
    assert "Traceback" not in log


def test_a_read_only_state_dir_stops_the_fake_with_one_line(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        (disk / "crm").mkdir()
        read_only(disk)
        fake = spawn_fake("crm", disk / "crm", 7, log_dir=tmp_path)
        with pytest.raises(ProcessFailed) as failed:
            fake.wait_healthy(30.0)
        fake.stop()
    assert fake.process.returncode == 1
    message = str(failed.value)
    assert f"fake crm: cannot keep its ledger in {disk / 'crm'}" in message
    assert "(is the disk full or read-only?)" in message
    assert "Traceback" not in message


def test_a_fake_too_slow_to_start_is_named_with_the_reason(tmp_path: Path) -> None:
    """Stopped (SIGSTOP) as soon as it is spawned, it stands for a start on a starved
    machine: the harness gives up at its deadline and says what it saw."""
    fake = spawn_fake("notify", tmp_path / "notify", 7)
    fake.process.pause()
    try:
        with pytest.raises(ProcessFailed) as failed:
            fake.wait_healthy(1.0)
    finally:
        fake.process.resume()
        fake.stop()
    message = str(failed.value)
    assert "notify not healthy within 1.0s" in message
    assert f"notify: nothing listens on port {fake.port} yet, so it is still starting" in message
    assert "FRACAS_TIME_SCALE=2" in message


def test_a_fake_that_listens_but_does_not_answer_is_named_with_the_reason(
    tmp_path: Path,
) -> None:
    fake = spawn_fake("notify", tmp_path / "notify", 7).wait_healthy(30.0)
    fake.process.pause()
    try:
        with pytest.raises(ProcessFailed) as failed:
            fake.wait_healthy(1.0)
    finally:
        fake.process.resume()
        fake.stop()
    assert f"port {fake.port} accepts connections but GET /healthz got no answer" in str(
        failed.value
    )


@pytest.mark.parametrize("command", [["up", "--fakes-only"], ["serve", "crm", "--port", "1"]])
def test_the_cli_names_a_read_only_state_dir_before_starting(
    tmp_path: Path, command: list[str]
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        read_only(disk)
        done = subprocess.run(
            [sys.executable, "-m", "fracas.harness.front.cli", *command, "--state-dir",
             str(disk / "state")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"argument --state-dir: cannot write in {disk / 'state'}: read-only file system" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
