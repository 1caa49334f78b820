"""The saga's steps, routes and intent rules are one table, the contract's: every other
list of steps is read from it, and no module writes one of its own again."""

from __future__ import annotations

import ast
from pathlib import Path

from fracas.fakes import contract
from fracas.harness.adapters.base import CAPABILITIES
from fracas.harness.model import coverage, steps
from fracas.harness.run.workload import INTENTS, allowed_intents
from fracas.harness.search import stateful, strategies

ROOT = Path(__file__).resolve().parents[2]
SAGA = set(contract.SAGA)


def test_each_saga_step_is_one_route_and_each_route_step_is_in_the_saga() -> None:
    made = [r.step for s in contract.BUILTIN_SERVICES for r in contract.service(s).routes]
    assert sorted(s for s in made if s != "lookup") == sorted(contract.SAGA)
    assert len(set(contract.SAGA)) == len(contract.SAGA)


def test_each_intent_reaches_saga_steps_and_needs_what_an_adapter_can_offer() -> None:
    for intent in contract.INTENTS:
        assert intent.reaches[0] == "customer" and set(intent.reaches) <= SAGA, intent
        assert intent.needs <= set(CAPABILITIES), intent
    assert INTENTS == tuple(i.name for i in contract.INTENTS)
    assert allowed_intents(frozenset()) == [i.name for i in contract.INTENTS if not i.needs]
    assert allowed_intents(frozenset({"review"})) == [
        i for i in INTENTS if i != "review_timeout"
    ]


def test_an_intent_must_fail_exactly_when_it_stops_short_of_the_forward_saga() -> None:
    """The expected outcome a witness states ("should have failed: card declined") is read
    from the intent table, and agrees with the steps the intent reaches."""
    forward = contract.SAGA[:6]
    for i in contract.INTENTS:
        assert (i.fails_because is None) == (i.reaches == forward), i
        assert i.expectation == (
            "should have completed" if i.outcome == "completed"
            else f"should have failed: {i.fails_because}"
        )  # fmt: skip
    assert contract.intent("declined").expectation == "should have failed: card declined"


def test_the_harness_tables_are_the_contracts() -> None:
    assert steps.STEP_ORDER[: len(contract.SAGA)] == contract.SAGA
    assert [s[0] for s in steps.STEPS] == list(contract.SAGA)
    for step, service, method, glob in steps.STEPS:
        assert steps.classify(service, method, glob.replace("*", "x-1")) == step
    assert coverage.STEP_NAMES[: len(contract.SAGA)] == contract.SAGA
    assert strategies.REACHES == {
        i.name: tuple(s for s in i.reaches if s != "quote") for i in contract.INTENTS
    }
    effects = {(svc, m, g) for step, svc, m, g in steps.STEPS if step in contract.effect_steps()}
    assert set(stateful.STEPS) <= effects
    # happy path first (toward the capture when shrinking), then the compensations
    assert stateful.STEPS[0] == ("payment", "POST", "/payments")
    assert stateful.STEPS[-2:] == (
        ("payment", "POST", "/payments/*/refunds"),
        ("inventory", "POST", "/reservations/*/release"),
    )


#: Lists of steps written outside the contract: none (which steps' answers name a record
#: they made is the contract's ``RouteSpec.records`` now).
ELSEWHERE: set[tuple[str, tuple[str, ...]]] = set()


def test_no_module_but_the_contract_writes_a_list_of_steps() -> None:
    found = set()
    for root in ("harness", "fakes"):
        for path in sorted((ROOT / root).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(), name)):
                if not isinstance(node, ast.Tuple | ast.List | ast.Set):
                    continue
                names = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if len(names) == len(node.elts) >= 3 and set(names) <= SAGA:
                    found.add((name, tuple(names)))
    assert {f for f in found if f[0] != "fakes/contract.py"} <= ELSEWHERE
    assert ("fakes/contract.py", contract.SAGA) in found  # the scan does see a list


def test_the_steps_that_answer_with_a_record_are_the_routes_that_make_one() -> None:
    """Each names its record in the answer: the forward effects and the refund; a release
    or a cancel changes a record the step before made."""
    assert contract.record_steps() == {"capture", "refund", "reserve", "ship", "notify"}
    assert contract.record_steps() <= contract.effect_steps()
