"""Processes die: fakes and the orchestrator, at random times and at exact moments."""

import pytest


def fault(kind, target, **params):
    return {"kind": kind, "target": target, "params": params}


@pytest.mark.parametrize("target", ["payment", "inventory", "shipping", "notify"])
def test_a_service_is_down_for_a_while(fracas, target):
    schedule = [{"fault": fault("kill", target), "at": 0, "for": 1.5}]
    result = fracas.run(fracas.orders(8), schedule).assert_consistent()
    assert result.in_flight_during_faults == 8
    assert set(result.statuses.values()) == {"completed"}


@pytest.mark.fracas(needs=["crash", "restart"])
def test_orchestrator_killed_after_the_capture_commits(fracas):
    """The exact worst moment: the money is taken, the answer not yet received."""
    plans = fracas.orders(3)
    schedule = [{
        "fault": fault("kill", "orchestrator"),
        "when": {"service": "payment", "path": "/payments", "order_id": plans[1].order_id,
                 "phase": "after_commit"},
        "for": 0,
    }]
    result = fracas.run(plans, schedule).assert_consistent()
    assert result.nemesis.applied == [0]
    assert set(result.statuses.values()) == {"completed"}


@pytest.mark.fracas(needs=["crash", "restart"])
@pytest.mark.parametrize("step", [("inventory", "/reservations"), ("shipping", "/shipments"),
                                  ("notify", "/messages")])
def test_orchestrator_killed_after_each_step_commits(fracas, step):
    service, path = step
    plans = fracas.orders(2)
    schedule = [{"fault": fault("kill", "orchestrator"),
                 "when": {"service": service, "path": path, "order_id": plans[0].order_id},
                 "for": 0}]
    fracas.run(plans, schedule).assert_consistent()


@pytest.mark.fracas(needs=["crash", "restart"])
def test_orchestrator_crash_loop(fracas):
    """Three crashes, each the moment a different order's step has committed."""
    plans = fracas.mixed_orders(15)
    steps = [("payment", "/payments", "ord-0001"), ("inventory", "/reservations", "ord-0003"),
             ("shipping", "/shipments", "ord-0005")]
    schedule = [{"fault": fault("restart", "orchestrator"),
                 "when": {"service": s, "path": p, "order_id": o}} for s, p, o in steps]
    result = fracas.run(plans, schedule).assert_consistent()
    assert sorted(result.nemesis.applied) == [0, 1, 2]


def test_a_paused_service(fracas):
    schedule = [{"fault": fault("pause", "shipping"), "at": 0, "for": 2}]
    result = fracas.run(fracas.orders(5), schedule).assert_consistent()
    assert result.in_flight_during_faults == 5
