"""The network between the orchestrator and a service breaks in the ways TCP can."""

import pytest


def net(kind, target, at=0.1, duration=1.5, **params):
    return {"fault": {"kind": kind, "target": target, "params": params}, "at": at, "for": duration}


@pytest.mark.parametrize("target", ["payment", "inventory", "shipping", "notify"])
def test_service_unreachable(fracas, target):
    fracas.run(fracas.orders(6), [net("down", target)]).assert_consistent()


def test_black_hole_then_heal(fracas):
    fracas.run(fracas.orders(4), [net("timeout", "payment", timeout_ms=0)]).assert_consistent()


def test_connections_reset(fracas):
    schedule = [net("reset_peer", "inventory", timeout_ms=0)]
    fracas.run(fracas.orders(4), schedule).assert_consistent()


def test_answers_cut_short(fracas):
    schedule = [net("limit_data", "shipping", bytes=40)]
    fracas.run(fracas.orders(4), schedule).assert_consistent()


def test_answers_in_pieces(fracas):
    schedule = [net("slicer", "payment", average_size=8, delay_us=200)]
    fracas.run(fracas.orders(4), schedule).assert_consistent()


def test_split_brain_of_two_services(fracas):
    schedule = [net("down", "payment", at=0.2, duration=1.0),
                net("down", "inventory", at=0.6, duration=1.0)]
    fracas.run(fracas.mixed_orders(10), schedule).assert_consistent()
