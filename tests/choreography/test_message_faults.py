"""Message faults on the bundled choreography, each shown to act for real: the broker's
own accounting (its delivery counts, its PubAcks) or the history's message records say
it happened, the correct participants still end every order consistent, and a planted
defect in the window the fault opens gives the violation the search should find."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from choreo_helpers import choreo_spec

from fracas.fakes.events import STREAM
from fracas.harness.run.runner import RunOptions, RunResult, run
from fracas.harness.run.topology import Topology
from fracas.harness.run.workload import orders


def _entry(kind: str, target: str, for_: float, **params: Any) -> dict[str, Any]:
    return {"fault": {"kind": kind, "target": target, "params": params}, "at": 0, "for": for_}


def _deliveries(result: RunResult, consumer: str, order_id: str, event: str) -> list[int]:
    """The broker's delivery counts of one event to one consumer, off its ack subjects."""
    return [m["delivery"] for m in result.history.messages
            if m["kind"] in ("delivered", "redelivered") and m["consumer"] == consumer
            and m["order_id"] == order_id and m["event"] == event]  # fmt: skip


def _violations(result: RunResult) -> set[tuple[str, str | None]]:
    return {(v.rule, v.order_id) for v in result.verdict.violations}


@pytest.mark.parametrize("bug", [None, "no-dedup"])
def test_a_lost_ack_makes_the_broker_deliver_the_event_again(
    start_topology: Callable[..., Topology], bug: str | None,
) -> None:
    topo = start_topology(choreo_spec(**({"payment": bug} if bug else {})))
    plans = orders(2, seed=0)
    oid = plans[1].order_id
    schedule = [_entry("message_duplicate", "broker", 15, event="customer.checked",
                       order_id=oid, consumer="payment")]
    result = run(topo, plans, schedule, RunOptions(settle_seconds=30), seed=0)
    assert max(_deliveries(result, "payment", oid, "customer.checked")) >= 2
    assert topo.broker is not None
    state = topo.broker.link.consumer_state(STREAM, "payment")
    assert state.delivered > state.ack_floor or state.delivered >= 3  # a consumer seq spent twice
    if bug is None:
        result.assert_consistent()
        return
    assert ("double-charge", oid) in _violations(result), result.failure_text()
