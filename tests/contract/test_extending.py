"""docs/extending.md's worked example: a sixth fake service (``fraud``, in this test
directory) is picked up by the checkers and the timeline with no harness file edited.

The fake runs for real (its ASGI app on a real SQLite ledger); its ledger and journal
join a synthetic run of the five built-in services, and the checkers judge the whole."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fraud_service import SERVICE, SPEC

from fracas.fakes import contract
from fracas.fakes.app import FakeApp
from fracas.fakes.store import Store
from fracas.fakes.world import build_world
from fracas.harness.checkers import View, check
from fracas.harness.checkers.steps import classify, effect_steps
from fracas.harness.report.timeline import LANE_H, TOP, render_timeline

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


def test_the_recipe_in_docs_extending_names_the_files_this_example_uses() -> None:
    doc = (ROOT / "docs" / "extending.md").read_text()
    assert "tests/contract/fraud_service.py" in doc
    assert "contract.register" in doc
