"""HTTP faults: rules merged into a fake's ``/_fracas/faults``, healed one rule at a time.

The first tests use a strict stand-in admin API (it refuses the counters GET adds, as the
fakes do); the last ones run against a real fake process when ``python -m fracas.fakes`` exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import RulesRecorder
from fracas.harness.faults import FaultError, SimpleFaultContext, from_json, heal_all
from fracas.harness.kit.net import LOOPBACK, free_port


def fault(kind: str, target: str = "payment", **params: Any) -> Any:
    return from_json({"kind": kind, "target": target, "params": params})


@pytest.fixture
def ctx(rules_recorder: RulesRecorder) -> SimpleFaultContext:
    return SimpleFaultContext(admin_urls={"payment": rules_recorder.url})


def test_apply_merges_and_heal_removes_only_its_rule(
    ctx: SimpleFaultContext, rules_recorder: RulesRecorder
) -> None:
    rules_recorder.rules = [{"id": "someone-elses", "match": {}, "action": {"kind": "drop"}}]
    drop = fault("drop", method="POST", path="/payments", nth=[1], phase="after_commit", times=1)
    slow = fault("delay", ms=200, path="/payments/**")
    drop.apply(ctx)
    slow.apply(ctx)
    assert [r["id"] for r in rules_recorder.rules] == ["someone-elses", drop.id, slow.id]
    assert rules_recorder.rules[1] == drop.rule()
    drop.heal(ctx)
    assert [r["id"] for r in rules_recorder.rules] == ["someone-elses", slow.id]
    puts = len(rules_recorder.puts)
    drop.heal(ctx)  # idempotent, and no write when there is nothing to remove
    assert len(rules_recorder.puts) == puts
    slow.heal(ctx)
    assert [r["id"] for r in rules_recorder.rules] == ["someone-elses"]


def test_applying_again_replaces_not_duplicates(
    ctx: SimpleFaultContext, rules_recorder: RulesRecorder
) -> None:
    f = from_json(
        {
            "kind": "status",
            "target": "payment",
            "id": "busy",
            "params": {"status": 503, "retry_after": 1},
        }
    )
    f.apply(ctx)
    f.apply(ctx)
    assert [r["id"] for r in rules_recorder.rules] == ["busy"]
    assert rules_recorder.rules[0]["action"] == {
        "kind": "status",
        "status": 503,
        "retry_after": 1.0,
    }


def test_every_http_kind_produces_a_rule_the_stand_in_accepts(
    ctx: SimpleFaultContext, rules_recorder: RulesRecorder
) -> None:
    faults = [
        fault("status", status=500),
        fault("drop"),
        fault("reset", order_id="ord-1"),
        fault("delay", ms=5),
        fault("malformed", shape="truncated", probability=0.5, seed=3),
        fault("hold", phase="after_commit", method="POST", path="/payments"),
    ]
    for f in faults:
        f.apply(ctx)
    assert {r["action"]["kind"] for r in rules_recorder.rules} == {
        "status",
        "drop",
        "reset",
        "delay",
        "malformed",
        "hold",
    }
    heal_all(ctx)
    assert rules_recorder.rules == []


def test_fake_not_answering_is_a_clear_error() -> None:
    ctx = SimpleFaultContext(admin_urls={"payment": f"http://{LOOPBACK}:{free_port()}"})
    with pytest.raises(FaultError, match="did not answer.*is the fake running"):
        fault("drop").apply(ctx)


def test_target_without_admin_api(ctx: SimpleFaultContext) -> None:
    with pytest.raises(FaultError, match="has no fake admin API; targets with one: payment"):
        fault("drop", target="orchestrator").apply(ctx)


# -- against a real fake ---------------------------------------------------------------------



@pytest.fixture
def payment(tmp_path: Path) -> Iterator[Any]:
    from fracas.harness.run.services import start_fake

    fake = start_fake("payment", tmp_path / "payment", seed=7)
    yield fake
    fake.stop()


def capture(url: str, order_id: str, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return httpx.post(
        url + "/payments",
        json={
            "order_id": order_id,
            "amount_cents": 1000,
            "currency": "EUR",
            "card_token": "tok_ok_4242",
        },
        headers=headers,
        timeout=3,
        trust_env=False,
    )


def test_real_fake_drop_after_commit_then_heal(payment: Any) -> None:
    ctx = SimpleFaultContext(
        admin_urls={"payment": payment.url},
        processes={"payment": payment.process},
        health={"payment": payment.healthy},
    )
    other = fault("status", status=503, path="/refunds-never-called")
    lost = fault("drop", method="POST", path="/payments", phase="after_commit", times=1)
    other.apply(ctx)
    lost.apply(ctx)
    with pytest.raises(httpx.HTTPError):
        capture(payment.url, "ord-1")
    # The effect was committed before the answer was lost: the ambiguous outcome.
    state = httpx.get(payment.url + "/_fracas/state", trust_env=False).json()
    assert [p["order_id"] for p in state["tables"]["payments"]] == ["ord-1"]
    lost.heal(ctx)
    rules = httpx.get(payment.url + "/_fracas/faults", trust_env=False).json()["rules"]
    assert [r["id"] for r in rules] == [other.id]
    assert capture(payment.url, "ord-2").status_code == 201
    heal_all(ctx)
    assert httpx.get(payment.url + "/_fracas/faults", trust_env=False).json()["rules"] == []


def test_real_fake_kill_then_heal_restarts_on_same_state(payment: Any) -> None:
    ctx = SimpleFaultContext(
        admin_urls={"payment": payment.url},
        processes={"payment": payment.process},
        health={"payment": payment.healthy},
    )
    assert capture(payment.url, "ord-k", key="k1").status_code == 201
    drop = fault("drop", path="/never")
    drop.apply(ctx)
    kill = fault("kill")
    kill.apply(ctx)
    assert not payment.healthy()
    drop.heal(ctx)  # the dead fake took its rules with it: nothing to do, no error
    kill.heal(ctx)
    assert httpx.get(payment.url + "/_fracas/faults", trust_env=False).json()["rules"] == []
    again = capture(payment.url, "ord-k", key="k1")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"


def test_real_fake_other_rules_keep_counting_and_reapply_replaces(payment: Any) -> None:
    ctx = SimpleFaultContext(admin_urls={"payment": payment.url})
    second = fault("status", status=503, method="POST", path="/payments", nth=[2])
    second.apply(ctx)
    assert capture(payment.url, "ord-a").status_code == 201  # 1st match: not hit
    fault("delay", ms=1, path="/never").apply(ctx)  # must not restart second's count
    assert capture(payment.url, "ord-b").status_code == 503  # 2nd match: hit
    second.apply(ctx)  # applying again gives a fresh rule, not a duplicate
    rules = httpx.get(payment.url + "/_fracas/faults", trust_env=False).json()["rules"]
    assert [r["id"] for r in rules].count(second.id) == 1
    assert next(r for r in rules if r["id"] == second.id)["matched"] == 0
    second.heal(ctx)
    second.heal(ctx)
