"""Schedules are data: they round-trip JSON, and every bad field is named with what was
expected. Strategies only ever draw valid schedules."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from fracas.harness.run.schedule import RequestMatch, ScheduleError, loads_schedule, parse_schedule
from fracas.harness.search.strategies import workloads

LATENCY = {"kind": "latency", "target": "payment", "params": {"latency_ms": 200}}


def test_round_trip_keeps_every_field() -> None:
    data = {"faults": [
        {"fault": LATENCY, "at": 0.5, "for": 2},
        {"fault": {"kind": "kill", "target": "orchestrator"},
         "when": {"service": "payment", "path": "/payments", "order_id": "ord-0001",
                  "phase": "after_commit", "nth": 2},
         "until": {"service": "notify", "path": "/messages", "phase": "before_commit"}},
    ]}
    schedule = parse_schedule(data)
    again = loads_schedule(schedule.dumps())
    assert again == schedule
    assert again.faults[1].when == RequestMatch("payment", "/payments", "POST", "ord-0001", 2,
                                                "after_commit")
    assert again.faults[0].fault["params"]["jitter_ms"] == 0  # catalog defaults written out


def test_hold_rule_parks_exactly_that_request() -> None:
    match = RequestMatch("payment", "/payments", "POST", "ord-0003", 1, "after_commit")
    assert match.hold_rule("t") == {
        "id": "t", "match": {"method": "POST", "path": "/payments", "nth": [1],
                             "order_id": "ord-0003"},
        "phase": "after_commit", "action": {"kind": "hold"}, "times": 1,
    }
    assert "ord-0003" in match.describe() and "committed" in match.describe()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"fault": LATENCY}, 'give exactly one trigger, "at"'),
        ({"fault": LATENCY, "at": 1, "when": {}}, "exactly one trigger"),
        ({"fault": LATENCY, "at": -1}, "faults[0].at: expected 0 to 3600 seconds"),
        ({"fault": LATENCY, "at": "soon"}, "faults[0].at: expected seconds as a number"),
        ({"fault": LATENCY, "at": 0, "for": 1, "until": {}}, "at most one heal"),
        ({"fault": LATENCY, "at": 0, "colour": 1}, "unknown key(s) ['colour']"),
        ({"at": 0}, "faults[0].fault: expected a fault object"),
        ({"fault": {**LATENCY, "params": {"latncy_ms": 1}}, "at": 0},
         "faults[0].fault.params.latncy_ms"),
        ({"fault": {"kind": "latncy", "target": "payment"}, "at": 0}, 'Did you mean "latency"'),
        ({"fault": LATENCY, "when": {"service": "bank", "path": "/x"}},
         "faults[0].when.service: expected one of crm"),
        ({"fault": LATENCY, "when": {"service": "payment", "path": "payments"}},
         "faults[0].when.path"),
        ({"fault": LATENCY, "when": {"service": "payment", "path": "/p", "phase": "later"}},
         "faults[0].when.phase"),
        ({"fault": LATENCY, "when": {"service": "payment", "path": "/p", "nth": 0}},
         "faults[0].when.nth"),
    ],
)
def test_bad_entries_name_the_field(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule({"faults": [entry]})
    assert message in str(info.value)


def test_not_json_and_not_a_schedule() -> None:
    with pytest.raises(ScheduleError, match="not valid JSON"):
        loads_schedule("{")
    with pytest.raises(ScheduleError, match='expected an object with "faults"'):
        parse_schedule("faults")


@settings(max_examples=60, deadline=None)
@given(workload=workloads(max_orders=6, max_faults=4))
def test_drawn_workloads_are_valid_and_round_trip(workload) -> None:  # type: ignore[no-untyped-def]
    text = workload.schedule.dumps()
    assert loads_schedule(text) == workload.schedule
    ids = {p.order_id for p in workload.plans}
    for entry in workload.schedule.faults:
        if entry.when is not None and entry.when.order_id is not None:
            assert entry.when.order_id in ids
    json.loads(json.dumps([p.to_json() for p in workload.plans]))


def test_first_call_triggers_on_each_services_main_route() -> None:
    """The trigger the latency scenarios use: it parses as a schedule entry, and names the
    route an order calls first (its effect, or the CRM read)."""
    from fracas.harness.run.schedule import first_call

    assert first_call("payment") == {"service": "payment", "method": "POST",
                                     "path": "/payments", "phase": "before_commit"}  # fmt: skip
    assert first_call("crm")["method"] == "GET" and first_call("crm")["path"] == "/customers/*"
    fault = {"kind": "latency", "target": "inventory", "params": {"latency_ms": 10}}
    (entry,) = parse_schedule([{"fault": fault, "when": first_call("inventory"), "for": 1}]).faults
    assert entry.when is not None and entry.when.path == "/reservations"
    with pytest.raises(ScheduleError, match="unknown service 'paymnet'"):
        first_call("paymnet")
