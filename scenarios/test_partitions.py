"""The network between the orchestrator and a service breaks in the ways TCP can."""

import pytest


def net(kind, target, at=0.0, duration=1.5, **params):
    return {"fault": {"kind": kind, "target": target, "params": params}, "at": at, "for": duration}


@pytest.mark.parametrize("target", ["payment", "inventory", "shipping", "notify"])
def test_service_unreachable(fracas, target):
    result = fracas.run(fracas.orders(6), [net("down", target)]).assert_consistent()
    assert result.in_flight_during_faults == 6


def test_black_hole_then_heal(fracas):
    result = fracas.run(fracas.orders(4), [net("timeout", "payment", timeout_ms=0)])
    result.assert_consistent()
    assert result.in_flight_during_faults == 4


def test_connections_reset(fracas):
    schedule = [net("reset_peer", "inventory", timeout_ms=0)]
    result = fracas.run(fracas.orders(4), schedule).assert_consistent()
    assert result.in_flight_during_faults == 4


def test_answers_cut_short(fracas):
    schedule = [net("limit_data", "shipping", bytes=40)]
    result = fracas.run(fracas.orders(4), schedule).assert_consistent()
    assert result.in_flight_during_faults == 4


def test_answers_in_pieces(fracas):
    schedule = [net("slicer", "payment", average_size=8, delay_us=200)]
    result = fracas.run(fracas.orders(4), schedule).assert_consistent()
    assert result.in_flight_during_faults == 4


def test_split_brain_of_two_services(fracas):
    schedule = [net("down", "payment", duration=1.0),
                net("down", "inventory", at=0.5, duration=1.0)]
    result = fracas.run(fracas.mixed_orders(10), schedule).assert_consistent()
    assert result.in_flight_during_faults == 10
