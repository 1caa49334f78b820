"""Faults on a choreography through schedules, as scenarios write them: a participant
killed at the worst moment (``participant:NAME``), the broker cut off from every
participant (``broker``), and a target that names nobody refused with the names that
exist."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from choreo_helpers import choreo_spec

from fracas.harness.checkers.view import View
from fracas.harness.report.timeline import render_timeline
from fracas.harness.run.runner import NemesisError, RunOptions, run
from fracas.harness.run.schedule import ScheduleError, parse_schedule
from fracas.harness.run.topology import Topology
from fracas.harness.run.workload import orders


def _kill_payment_after_capture(order_id: str) -> list[dict[str, object]]:
    return [{"fault": {"kind": "kill", "target": "participant:payment"},
             "when": {"service": "payment", "path": "/payments", "order_id": order_id,
                      "phase": "after_commit"},
             "for": 0.5}]  # fmt: skip


def test_a_participant_killed_as_its_capture_commits_and_the_broker_cut_off(
    start_topology: Callable[..., Topology],
) -> None:
    topo = start_topology(choreo_spec())
    plans = orders(4, seed=0)
    schedule = [*_kill_payment_after_capture(plans[1].order_id),
                {"fault": {"kind": "down", "target": "broker"}, "at": 0, "for": 1.0}]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    result.assert_consistent()
    assert sorted(result.nemesis.applied) == [0, 1]
    assert set(result.statuses.values()) == {"completed"}
    assert result.in_flight_during_faults == 4
    again = [m for m in result.history.messages if m["kind"] == "redelivered"]
    assert any(m["consumer"] == "payment" and m["order_id"] == plans[1].order_id for m in again)
    svg = render_timeline(View(result.snapshot), [])  # the report puts it on the timeline
    assert f"broker redelivered customer.checked consumer=payment delivery=2 " \
           f"order={plans[1].order_id}" in svg


def test_participant_targets_are_checked_when_parsed_and_when_applied(
    start_topology: Callable[..., Topology],
) -> None:
    with pytest.raises(ScheduleError, match="participant:Pay!"):
        parse_schedule([{"fault": {"kind": "kill", "target": "participant:Pay!"}, "at": 0}])
    with pytest.raises(ScheduleError, match="acts on one of crm, payment, inventory, shipping, "
                       "notify, broker"):
        parse_schedule([{"fault": {"kind": "latency", "target": "brokr",
                                   "params": {"latency_ms": 10}}, "at": 0}])
    topo = start_topology(choreo_spec())
    schedule = [{"fault": {"kind": "kill", "target": "participant:billing"}, "at": 0, "for": 1}]
    with pytest.raises(NemesisError, match="participant:payment"):
        run(topo, orders(1, seed=0), schedule, RunOptions(settle_seconds=10), seed=0)


@pytest.mark.parametrize("bug", [None, "ack-first"])
def test_a_participant_killed_mid_step_loses_the_step_only_when_it_acked_first(
    start_topology: Callable[..., Topology], bug: str | None, tmp_path: Path,
) -> None:
    """Killed while its capture waits in the fake: the correct participant had not acked,
    so the event comes again and the order completes; ``--bug ack-first`` had, so nothing
    brings the step back and the order never ends (the liveness rule names it)."""
    topo = start_topology(choreo_spec(**({"payment": bug} if bug else {})))
    plans = orders(2, seed=0)
    schedule = [{"fault": {"kind": "kill", "target": "participant:payment"},
                 "when": {"service": "payment", "path": "/payments",
                          "order_id": plans[1].order_id, "phase": "before_commit"},
                 "for": 0.5}]  # fmt: skip
    result = run(topo, plans, schedule, RunOptions(settle_seconds=15), seed=0)
    assert result.nemesis.applied == [0]
    if bug is None:
        result.assert_consistent()
        return
    broken = {(v.rule, v.order_id) for v in result.verdict.violations}
    assert ("liveness", plans[1].order_id) in broken, broken
    assert result.statuses[plans[0].order_id] == "completed"
    # The replay file holds the choreography: `fracas replay` runs it again, from anywhere.
    path = result.write_replay(tmp_path / "ack-first.json")
    done = subprocess.run([sys.executable, "-m", "fracas.harness.front.cli", "replay", str(path),
                           "--report", str(tmp_path / "replay")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=240)  # fmt: skip
    assert "reproduced 1 of 1" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def _stored_copies(messages: list[dict[str, object]]) -> dict[tuple[object, object], int]:
    """(order, event) -> how many publishes the broker stored (its PubAck: not a duplicate)."""
    out: dict[tuple[object, object], int] = {}
    for m in messages:
        if m["kind"] == "published" and m.get("duplicate") is False:
            key = (m["order_id"], m["event"])
            out[key] = out.get(key, 0) + 1
    return out


@pytest.mark.parametrize("bug", [None, "retry-no-msgid"])
def test_a_publish_whose_ack_is_late_is_retried_and_stored_once_only_with_its_message_id(
    start_topology: Callable[..., Topology], bug: str | None,
) -> None:
    """1.5 s of latency from the broker to every participant, longer than their 1 s
    publish timeout: each publish is stored, its ack comes too late, and it is sent
    again. With its message id the broker drops the copy (its ack says duplicate); with
    ``--bug retry-no-msgid`` on customer, the broker stores customer.checked twice. The
    fakes' idempotency keys absorb the copy, so only ``event-stored-once`` names it."""
    topo = start_topology(choreo_spec(**({"customer": bug} if bug else {})))
    plans = orders(2, seed=0)
    schedule = [{"fault": {"kind": "latency", "target": "broker",
                           "params": {"latency_ms": 1500}}, "at": 0, "for": 5}]  # fmt: skip
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    copies = _stored_copies(result.history.messages)
    checked = [copies.get((p.order_id, "customer.checked"), 0) for p in plans]
    if bug is None:
        result.assert_consistent()
        assert set(copies.values()) == {1}
        assert any(m["kind"] == "published" and m.get("duplicate") and m["event"] != "order.placed"
                   for m in result.history.messages)  # a retry the broker dropped
        return
    assert max(checked) >= 2, copies
    twice = {(p.order_id, "event-stored-once") for p, n in zip(plans, checked, strict=True)
             if n >= 2}  # fmt: skip
    found = {(v.order_id, v.rule) for v in result.verdict.violations}
    assert twice and twice <= found, result.failure_text()
    assert {rule for _, rule in found} == {"event-stored-once"}, result.failure_text()
