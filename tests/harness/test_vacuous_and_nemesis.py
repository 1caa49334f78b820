"""No vacuous passes, and no harness crash when a fake is down under an HTTP rule."""

from __future__ import annotations

import pytest

from fracas.harness.model.history import History
from fracas.harness.run.nemesis import Nemesis
from fracas.harness.run.runner import VacuousRunError, run
from fracas.harness.run.schedule import ScheduleError, parse_schedule
from fracas.harness.run.workload import orders

NEVER = {"service": "payment", "path": "/payments", "order_id": "ord-9999",
         "phase": "after_commit"}
STATUS = {"kind": "status", "target": "payment",
          "params": {"status": 503, "method": "POST", "path": "/payments", "times": 1}}


def test_a_trigger_that_never_fires_fails_the_run(start_topology) -> None:
    topo = start_topology()
    schedule = [{"fault": {"kind": "kill", "target": "orchestrator"}, "when": NEVER, "for": 0}]
    result = run(topo, orders(1), schedule, reset=False)
    assert result.ok and result.entry_hits == {0: 0}
    with pytest.raises(VacuousRunError) as info:
        result.assert_consistent()
    assert "faults[0]" in str(info.value) and "never fired" in str(info.value)


def test_may_not_fire_opts_out_and_round_trips(start_topology) -> None:
    topo = start_topology()
    entry = {"fault": {"kind": "kill", "target": "orchestrator"}, "when": NEVER, "for": 0,
             "may_not_fire": True}
    assert parse_schedule([entry]).to_json()["faults"][0]["may_not_fire"] is True
    result = run(topo, orders(1), [entry], reset=False)
    assert result.vacuous == []
    result.assert_consistent()


def test_may_not_fire_must_be_a_boolean() -> None:
    with pytest.raises(ScheduleError, match=r"faults\[0\]\.may_not_fire"):
        parse_schedule([{"fault": STATUS, "at": 0, "may_not_fire": "yes"}])


def test_a_network_fault_that_hit_nothing_counts_zero(start_topology) -> None:
    """fired() >= 1 for a network fault can fail: latency on notify while the only
    order has long finished hits no request."""
    topo = start_topology()
    lat = {"kind": "latency", "target": "notify", "params": {"latency_ms": 5}}
    late = [{"fault": lat, "at": 2.0, "for": 0.1}]
    result = run(topo, orders(1), late, reset=False)
    assert result.fired("latency", "notify") == 0
    assert result.vacuous and "hit no request" in result.vacuous[0]
    early = run(topo, orders(2), [{"fault": lat, "at": 0, "for": 2.0}])
    assert early.fired("latency", "notify") >= 1
    assert early.vacuous == []


def test_http_rule_on_a_killed_fake_is_applied_when_it_is_back(start_topology) -> None:
    """A kill of payment drawn with a status rule on payment crashed the harness
    (NemesisError: Connection refused). Now the rule is applied once payment is back,
    and it hits the capture the orchestrator retries."""
    topo = start_topology()
    schedule = [
        {"fault": {"kind": "kill", "target": "payment"}, "at": 0, "for": 0.3},
        {"fault": STATUS, "at": 0.1, "may_not_fire": True},  # the retry may beat it
    ]
    result = run(topo, orders(1), schedule, reset=False)
    assert not result.nemesis.errors
    result.assert_consistent()
    assert sorted(result.nemesis.applied) == [0, 1]  # deferred, then applied
    applied = [w for w in result.history.faults() if w.fault.get("kind") == "status"]
    kill = next(w for w in result.history.faults() if w.fault.get("kind") == "kill")
    assert applied[0].applied_t - kill.applied_t >= 0.3  # once payment was back, not at 0.1


def test_rules_and_triggers_survive_a_restart_of_their_fake(start_topology) -> None:
    topo = start_topology()
    schedule = [
        {"fault": {"kind": "restart", "target": "payment"}, "at": 0},
        {"fault": STATUS, "at": 0},
    ]
    result = run(topo, orders(1), schedule, reset=False)
    assert not result.nemesis.errors
    assert result.entry_hits[1] == 1


def test_a_fired_triggers_fake_is_still_served(start_topology, monkeypatch) -> None:
    """A request a trigger parked is released by the nemesis; if that release fails
    (the fake busy with what a pause held back), the next round must try again. The
    nemesis read only the fakes with a trigger still waiting: once the trigger had
    fired, its parked request stayed to the end of the workload, and its ended order
    never went still (the phase ran out its 120 s, 1 replay in 4 of one example)."""
    topo = start_topology()
    sched = parse_schedule([{"fault": {"kind": "kill", "target": "orchestrator"}, "for": 0,
                             "when": {"service": "payment", "path": "/payments",
                                      "order_id": "ord-0001"}}])  # fmt: skip
    fakes = {n: f.url for n, f in topo.fakes.items()}
    nemesis = Nemesis(sched, topo.fault_context(), History(), fakes)
    polled: list[str] = []
    monkeypatch.setattr(nemesis, "_held", lambda service: polled.append(service) or [])
    nemesis._serve_holds()
    assert polled == ["payment"]
    nemesis._entries[0].applied_at = 1.0  # the trigger fired
    nemesis._serve_holds()  # within SWEEP_SECONDS of the last sweep: not read
    assert polled == ["payment"]
    nemesis._next_sweep = 0.0  # the next sweep is due
    nemesis._serve_holds()
    assert polled == ["payment", "payment"]
