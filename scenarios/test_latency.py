"""Slow networks: latency, jitter and thin bandwidth in front of each service.

Each fault starts at the first request an order makes to its service (``first_call``),
not at a fixed time, so it lands on live work on a fast orchestrator and on a slow one.
"""

import pytest

from fracas.harness.run.schedule import first_call


def slow(kind, target, **params):
    fault = {"kind": kind, "target": target, "params": params}
    return {"fault": fault, "when": first_call(target), "for": 3}


@pytest.mark.parametrize("target", ["crm", "payment", "inventory", "shipping", "notify"])
def test_latency_on_each_service(fracas, target):
    result = fracas.run(fracas.orders(6), [slow("latency", target, latency_ms=400)])
    result.assert_consistent()
    assert set(result.statuses.values()) == {"completed"}


def test_jitter_everywhere(fracas):
    schedule = [slow("jitter", s, jitter_ms=150, latency_ms=100)
                for s in ("payment", "inventory", "shipping")]
    fracas.run(fracas.mixed_orders(10), schedule).assert_consistent()


def test_thin_bandwidth_on_payment(fracas):
    fracas.run(fracas.orders(4), [slow("bandwidth", "payment", rate_kbps=2)]).assert_consistent()


def test_latency_beyond_the_call_timeout(fracas):
    """Answers slower than the orchestrator waits: every call is ambiguous for a while."""
    schedule = [slow("latency", "payment", latency_ms=6000, direction="downstream")]
    fracas.run(fracas.orders(3), schedule, settle_seconds=60).assert_consistent()
