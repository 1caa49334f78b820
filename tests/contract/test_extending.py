"""docs/extending.md's worked examples, each one file in this test directory and no
fracas file edited:

- a sixth fake service (``fraud_service.py``) is picked up by the checkers and the
  timeline. The fake runs for real (its ASGI app on a real SQLite ledger); its ledger
  and journal join a synthetic run of the five built-in services, and the checkers
  judge the whole;
- a new HTTP fault action (``teapot.py``) is a fault kind: a schedule names it, the
  catalog validates it, the harness's rule reaches a real fake, fires, and is journaled.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fraud_service import SERVICE, SPEC

from fracas.fakes import contract, payment
from fracas.fakes.actions import unregister
from fracas.fakes.app import FakeApp
from fracas.fakes.store import Store
from fracas.fakes.world import OK_TOKEN, build_world
from fracas.harness.checkers import View, check
from fracas.harness.faults import FaultValidationError, fault_kinds, from_json
from fracas.harness.faults.http import MATCH_PARAMS
from fracas.harness.model.history import describe_fault
from fracas.harness.model.steps import classify, effect_steps
from fracas.harness.report.timeline import LANE_H, TOP, render_timeline
from fracas.harness.run.schedule import parse_schedule

ROOT = Path(__file__).resolve().parents[2]
# the checker tests' synthetic run stands in for the five built-in services
sys.path.insert(0, str(ROOT / "tests" / "checkers"))
from synth_ledger import SynthWorld  # noqa: E402


@pytest.fixture
def fraud() -> Iterator[contract.ServiceSpec]:
    contract.register(SPEC)
    try:
        yield SPEC
    finally:
        contract.unregister("fraud")
    assert "fraud" not in contract.service_names()


async def _drive(app: FakeApp) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Screen order ord-1 (retried with the same key: one row), then an order nobody
    submitted; return the fake's ledger and journal as the topology would fetch them."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fraud") as client:
        for key, oid in (("k-1", "ord-1"), ("k-1", "ord-1"), ("k-2", "ord-ghost")):
            r = await client.post(
                "/screenings", json={"order_id": oid}, headers={"Idempotency-Key": key}
            )
            assert r.status_code == 201, r.text
        state = (await client.get(contract.STATE_PATH)).json()
        journal = (await client.get("/_fracas/journal")).json()["entries"]
    return state, journal


def test_a_sixth_fake_service_is_checked_and_drawn_without_harness_edits(
    fraud: contract.ServiceSpec, tmp_path: Path
) -> None:
    synth = SynthWorld()
    store = Store(tmp_path / "fraud.sqlite3", SERVICE)
    store.reset(build_world(7))
    state, journal = asyncio.run(_drive(FakeApp(SERVICE, store)))
    assert [r["order_id"] for r in state["tables"]["screenings"]] == ["ord-1", "ord-ghost"]

    synth.complete("ord-1")
    snap = synth.snapshot()
    snap.ledgers["fraud"] = state
    snap.journals["fraud"] = journal

    # steps: the contract's route table is the classifier's
    assert classify("fraud", "POST", "/screenings") == "screen"
    assert "screen" in effect_steps()

    # checkers: the orphan rule walks the new effect table; the completed order is clean
    result = check(snap)
    found = {(v.rule, v.order_id) for v in result.violations}
    assert found == {("orphan-effects", "ord-ghost")}, found
    (orphan,) = result.violations
    assert [(r["service"], r["table"]) for r in orphan.ledger_rows] == [("fraud", "screenings")]
    assert [(r["service"], r["table"]) for r in View(snap).ledger_rows("ord-1")][-1] == (
        "fraud",
        "screenings",
    )

    # a duplicated key in the new table is an idempotency violation too
    dup = dict(state["tables"]["screenings"][0], screening_id="scr-9999", seq=99)
    snap.ledgers["fraud"]["tables"]["screenings"].append(dup)
    assert ("idempotency", "ord-1") in {(v.rule, v.order_id) for v in check(snap).violations}

    # timeline: fraud has its own lane, and its ticks are drawn in it
    svg = render_timeline(View(snap), ["ord-ghost"])
    lanes = re.findall(r'<text class="ln" x="4" y="[^"]+">([^<]+)</text>', svg)
    assert lanes[0] == "orchestrator" and "fraud" in lanes
    lane_y = TOP + lanes.index("fraud") * LANE_H
    ticks = re.findall(r'<rect class="tk [^"]*" data-o="[^"]*" x="[^"]+" y="([^"]+)"[^>]*>'
                       r"<title>[^<]* fraud POST /screenings", svg)  # fmt: skip
    assert len(ticks) == 3 and {float(y) for y in ticks} == {lane_y + 5}


@pytest.fixture
def teapot() -> Iterator[ModuleType]:
    """Import the action's file: that is all the registering a built-in action gets."""
    assert "teapot" not in fault_kinds()
    module = importlib.import_module("teapot")
    try:
        yield module
    finally:
        unregister("teapot")
        sys.modules.pop("teapot", None)
    assert "teapot" not in fault_kinds() and "teapot" not in contract.http_fault_actions()


async def _fire(app: FakeApp, rule: dict[str, Any], bad_rule: dict[str, Any]) -> dict[str, Any]:
    """Put the harness's rule on the fake, order a payment through it, read the journal."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://payment") as client:
        refused = await client.post(contract.FAULTS_PATH, json=bad_rule)
        added = await client.post(contract.FAULTS_PATH, json=rule)
        assert added.status_code == 201, added.text
        body = {"order_id": "ord-1", "amount_cents": 500, "currency": "EUR",
                "card_token": OK_TOKEN}  # fmt: skip
        answer = await client.post("/payments", json=body, headers={"Idempotency-Key": "k-1"})
        journal = (await client.get("/_fracas/journal")).json()["entries"]
        state = (await client.get(contract.STATE_PATH)).json()
    return {"refused": refused, "answer": answer, "journal": journal, "state": state}


def test_an_http_fault_action_in_one_file_is_a_fault_kind_that_fires(
    teapot: ModuleType, tmp_path: Path
) -> None:
    kind = fault_kinds()["teapot"]
    assert kind.family == "http" and kind.summary == teapot.Teapot.summary
    assert [p.name for p in kind.params_spec] == ["brew", "cups", *(p.name for p in MATCH_PARAMS)]

    # the catalog validates it from the action's declaration, with the usual messages
    fault_json = {"kind": "teapot", "target": "payment", "params": {"brew": "earl_gray"}}
    with pytest.raises(FaultValidationError, match='Did you mean "earl_grey"'):
        from_json(fault_json)
    with pytest.raises(FaultValidationError) as info:
        from_json({**fault_json, "params": {"brew": "green", "cups": 13}})
    assert info.value.field == "params.cups" and "from 1 to 12" in str(info.value)

    # a schedule names it; its default is written out
    schedule = parse_schedule([{
        "fault": {"kind": "teapot", "target": "payment",
                  "params": {"brew": "green", "method": "POST", "path": "/payments"}},
        "at": 0, "for": 1,
    }])  # fmt: skip
    fault = from_json(schedule.faults[0].fault)
    assert fault.params["cups"] == 1
    rule = fault.rule()  # type: ignore[attr-defined]
    assert rule["action"] == {"kind": "teapot", "brew": "green", "cups": 1}
    assert describe_fault(fault.to_json()).startswith("a teapot fault on POST /payments")

    # a real fake (payment's app on a real SQLite ledger) takes the rule, and it fires
    store = Store(tmp_path / "payment.sqlite3", payment.SERVICE)
    store.reset(build_world(7))
    bad = {**rule, "id": "bad", "action": {"kind": "teapot", "brew": "green", "cups": 0}}
    got = asyncio.run(_fire(FakeApp(payment.SERVICE, store), rule, bad))
    assert got["refused"].status_code == 422  # the fakes read the same declaration
    assert got["refused"].json()["errors"][0]["field"] == "body[0].action.cups"
    assert got["answer"].status_code == 418
    assert {k: got["answer"].json()[k] for k in ("brew", "cups")} == {"brew": "green", "cups": 1}
    (entry,) = [e for e in got["journal"] if e["fault"]]
    assert entry["fault"] == {
        "rule_id": fault.id, "phase": "before_commit", "kind": "teapot", "brew": "green",
    }  # fmt: skip
    assert entry["status"] == 418 and entry["effect_id"] is None
    assert got["state"]["tables"]["payments"] == []  # before commit: no effect


def test_the_recipe_in_docs_extending_names_the_files_this_example_uses() -> None:
    doc = (ROOT / "docs" / "extending.md").read_text()
    assert "tests/contract/fraud_service.py" in doc
    assert "contract.register" in doc
    assert "tests/contract/teapot.py" in doc
