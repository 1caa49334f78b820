"""Faults on a choreography through schedules, as scenarios write them: a participant
killed at the worst moment (``participant:NAME``), the broker cut off from every
participant (``broker``), and a target that names nobody refused with the names that
exist."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from choreo_helpers import choreo_spec

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
