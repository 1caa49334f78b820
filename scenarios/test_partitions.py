"""The network between the orchestrator and a service breaks in the ways TCP can.

A service that is down refuses connections from the start (``at``). A fault that acts on
traffic starts at the first request an order makes to its service (``first_call``), so
it lands on live work on a fast orchestrator and on a slow one alike.
"""

import pytest

from fracas.harness.run.schedule import first_call


def net(kind, target, at=0.0, duration=1.5, **params):
    return {"fault": {"kind": kind, "target": target, "params": params}, "at": at, "for": duration}


def on_traffic(kind, target, duration=1.5, **params):
    fault = {"kind": kind, "target": target, "params": params}
    return {"fault": fault, "when": first_call(target), "for": duration}


def assert_it_acted(result, kind, target):
    """The fault cut, reset or sliced real requests (fracas fails a run whose faults hit
    nothing, too; this says which one)."""
    assert result.fired(kind, target) >= 1
    assert result.in_flight_during_faults >= 1


@pytest.mark.parametrize("target", ["payment", "inventory", "shipping", "notify"])
def test_service_unreachable(fracas, target):
    result = fracas.run(fracas.orders(6), [net("down", target)]).assert_consistent()
    assert result.in_flight_during_faults == 6


def test_black_hole_then_heal(fracas):
    result = fracas.run(fracas.orders(4), [on_traffic("timeout", "payment", timeout_ms=0)])
    result.assert_consistent()
    assert_it_acted(result, "timeout", "payment")


def test_connections_reset(fracas):
    schedule = [on_traffic("reset_peer", "inventory", timeout_ms=0)]
    result = fracas.run(fracas.orders(4), schedule).assert_consistent()
    assert_it_acted(result, "reset_peer", "inventory")


def test_answers_cut_short(fracas):
    schedule = [on_traffic("limit_data", "shipping", bytes=40)]
    result = fracas.run(fracas.orders(4), schedule).assert_consistent()
    assert_it_acted(result, "limit_data", "shipping")


def test_answers_in_pieces(fracas):
    schedule = [on_traffic("slicer", "payment", average_size=8, delay_us=200)]
    result = fracas.run(fracas.orders(4), schedule).assert_consistent()
    assert_it_acted(result, "slicer", "payment")


def test_split_brain_of_two_services(fracas):
    schedule = [net("down", "payment", duration=1.0),
                net("down", "inventory", at=0.5, duration=1.0)]
    result = fracas.run(fracas.mixed_orders(10), schedule).assert_consistent()
    assert result.in_flight_during_faults == 10
