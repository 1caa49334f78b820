"""A trigger or an HTTP fault rule that names no route of its service can never fire: it is
refused when the schedule is parsed (and so when a replay file is read), naming the field,
what the service serves and the likely fix, instead of showing up as a vacuous run."""

from __future__ import annotations

from typing import Any

import pytest

from fracas.harness.run.replay import REPLAY_VERSION, ReplayError, parse_replay
from fracas.harness.run.schedule import ScheduleError, parse_schedule

KILL = {"kind": "kill", "target": "orchestrator"}


def _trigger(**when: Any) -> list[dict[str, Any]]:
    return [{"fault": KILL, "when": when, "for": 0}]


def _refusal(schedule: list[dict[str, Any]]) -> str:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(schedule)
    return str(info.value)


def test_a_path_the_service_does_not_serve_is_named_with_the_nearest_one() -> None:
    text = _refusal(_trigger(service="payment", path="/payment"))
    assert text.startswith("faults[0].when.path: expected a path payment serves")
    assert "/payments/{payment_id}/refunds" in text and 'Did you mean "/payments"?' in text


def test_a_misspelt_service_gets_a_did_you_mean() -> None:
    text = _refusal(_trigger(service="paymnt", path="/payments"))
    assert text.startswith("faults[0].when.service: expected one of crm, payment")
    assert 'Did you mean "payment"?' in text


def test_a_path_with_an_id_or_a_wildcard_matches_the_route_pattern() -> None:
    for path in ("/payments/pay-1/refunds", "/payments/*/refunds", "/payments/{id}/refunds"):
        (entry,) = parse_schedule(_trigger(service="payment", path=path)).faults
        assert entry.when is not None and entry.when.path == path
    (entry,) = parse_schedule(_trigger(service="crm", path="/customers/cus-1", method="get")).faults
    assert entry.when is not None and entry.when.method == "GET"


def test_a_method_not_served_on_that_path_is_refused() -> None:
    text = _refusal(_trigger(service="payment", path="/payments/pay-1/refunds", method="GET"))
    assert text.startswith("faults[0].when.method: expected POST (what payment serves "
                           "/payments/pay-1/refunds), got 'GET'.")  # fmt: skip
    # the default method is POST: a read's path needs its method said
    assert "faults[0].when.method: expected GET" in _refusal(_trigger(service="crm",
                                                                      path="/customers/*"))


def test_a_path_of_another_service_says_whose_it_is() -> None:
    text = _refusal([{"fault": KILL, "at": 0},
                     {"fault": KILL, "at": 0, "until": {"service": "payment",
                                                        "path": "/reservations"}}])  # fmt: skip
    assert text.startswith("faults[1].until.path:") and "/reservations is a path of inventory" in text


def test_an_http_fault_rules_match_is_checked_against_its_targets_routes() -> None:
    def rule(**params: Any) -> list[dict[str, Any]]:
        fault = {"kind": "status", "target": "payment", "params": {"status": 503, **params}}
        return [{"fault": fault, "at": 0}]

    assert 'Did you mean "/payments"?' in _refusal(rule(path="/paymnts"))
    assert _refusal(rule(path="/payments/*", method="POST")).startswith(
        "faults[0].fault.params.method: expected GET (what payment serves /payments/*)"
    )
    assert "params.method: expected POST or GET" in _refusal(rule(method="DELETE"))
    assert len(parse_schedule(rule(path="/payments/*/refunds", method="POST"))) == 1


def test_a_replay_file_with_a_trigger_on_no_route_is_refused_on_load() -> None:
    data = {"fracas_replay": REPLAY_VERSION, "seed": 7, "orders": [],
            "schedule": {"faults": _trigger(service="payment", path="/payment")}}  # fmt: skip
    with pytest.raises(ReplayError, match=r'faults\[0\]\.when\.path: .* Did you mean "/payments"'):
        parse_replay(data)
