"""The contract module is the one statement of the shared facts: the fakes implement
exactly its routes and tables, and the bundled orchestrator's own copy agrees with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fracas.fakes import contract
from fracas.fakes.faults import KINDS
from fracas.fakes.server import SERVICES as FAKES
from fracas.harness.faults import fault_kinds
from fracas.harness.run.services import SERVICES as HARNESS_SERVICES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", contract.BUILTIN_SERVICES)
def test_each_fake_serves_exactly_its_contract_routes_and_tables(name: str) -> None:
    fake, spec = FAKES[name], contract.service(name)
    # each handler is bound to a route of the contract, and each route has one
    assert sorted(spec.routes.index(r.spec) for r in fake.routes) == list(range(len(spec.routes)))
    assert fake.tables == [t.table for t in spec.ledger]


def test_the_fakes_run_and_the_harness_starts_the_contract_services_in_order() -> None:
    assert tuple(FAKES) == contract.BUILTIN_SERVICES == HARNESS_SERVICES
    assert contract.BUILTIN_SERVICES == ("crm", "payment", "inventory", "shipping", "notify")


def test_the_bundled_orchestrator_copy_agrees_with_the_contract() -> None:
    """The orchestrator is a system under test and keeps its own list on purpose; this is
    what keeps the copy honest: its services, and every path its saga calls, are the
    contract's."""
    from fracas.orchestrator.config import SERVICES as ORCH_SERVICES

    assert ORCH_SERVICES == contract.BUILTIN_SERVICES
    saga = "".join(f.read_text() for f in sorted((ROOT / "orchestrator").glob("*.py")))
    names = "|".join(contract.BUILTIN_SERVICES)
    calls = re.findall(rf'"({names})", "(GET|POST)", f?"(/[^"]*)"', saga)
    assert len(calls) >= 6, calls  # capture, reserve, ship, quote, notify, customer...
    routes = contract.routes()
    for service, method, path in calls:
        concrete = re.sub(r"{[^}]+}", "x", path)
        assert any(
            s == service and r.method == method and r.regex.match(concrete) for s, r in routes
        ), f"orchestrator calls {service} {method} {path}, which the contract lacks"


def test_compensations_undo_an_effectful_step_of_the_same_service() -> None:
    for service in contract.services():
        steps = {r.step for r in service.routes if r.effectful}
        for r in service.routes:
            if r.compensates:
                assert r.effectful and r.compensates in steps, (service.name, r)
    assert contract.compensations() == {
        "refund": "capture",
        "release": "reserve",
        "cancel": "ship",
    }


def test_http_fault_actions_are_the_fakes_kinds_and_each_is_a_harness_fault_kind() -> None:
    assert KINDS == contract.HTTP_FAULT_ACTIONS
    http_kinds = {n for n, k in fault_kinds().items() if k.family == "http"}
    assert set(contract.HTTP_FAULT_ACTIONS) == http_kinds


def test_a_builtin_service_cannot_be_unregistered_and_unknown_names_are_named() -> None:
    with pytest.raises(ValueError, match="built-in"):
        contract.unregister("payment")
    with pytest.raises(KeyError, match="unknown service 'nope'; expected one of crm"):
        contract.service("nope")


def test_the_saga_calls_are_what_the_strategies_fault_today() -> None:
    """``strategies.ENDPOINTS`` becomes ``{n: contract.calls(n) for n in SERVICES}`` at
    merge; the same tuples in the same order keep every seeded draw as it was."""
    from fracas.harness.search.strategies import ENDPOINTS

    assert {n: contract.calls(n) for n in contract.BUILTIN_SERVICES} == ENDPOINTS
