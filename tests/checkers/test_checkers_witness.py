"""The witness: joined journal lines, faults in the window, and a readable account."""

from __future__ import annotations

from checkers_helpers import verdict
from synth_ledger import SynthWorld


def lost_capture_retried_with_new_key(w: SynthWorld) -> None:
    w.t += 12.0
    w.order("ord-12", lines=[("SKU-0001", 2, 1999)])
    w.lookup("ord-12")
    toxic = w.history.fault_applied(
        {
            "name": "slow-pay",
            "type": "timeout",
            "stream": "downstream",
            "attributes": {"timeout": 500},
        },
        "payment",
    )
    w.capture("ord-12", fault={"rule_id": "lost-capture", "phase": "after_commit", "kind": "drop"})
    toxic.healed()
    w.t += 0.7
    w.capture("ord-12", key="ord-12:capture:retry-1")
    res = w.reserve("ord-12")
    w.ship("ord-12", res)
    w.notify("ord-12", "order_confirmed")
    w.report("ord-12", "completed")
    w.complete("ord-13")  # an unrelated order whose lines must stay out of the witness


def test_double_charge_witness(world: SynthWorld) -> None:
    lost_capture_retried_with_new_key(world)
    r = verdict(world)
    [v] = [v for v in r.violations if v.rule == "double-charge"]
    assert v.order_id == "ord-12"
    assert {row["row"]["payment_id"] for row in v.ledger_rows} == {"pay-0001", "pay-0002"}
    assert all(e["order_id"] == "ord-12" for e in v.journal_lines)
    assert [e["path"] for e in v.journal_lines if e["service"] == "payment"] == [
        "/payments",
        "/payments",
    ]
    assert [f["label"] for f in v.faults] == ["a timeout downstream toxic (timeout=500)"]
    text = v.account
    assert "pay-0001 captured" in text and "EUR at 12." in text
    assert "while payment was behind a timeout downstream toxic" in text
    assert "lost to fault rule lost-capture (drop after commit)" in text
    assert "retried with a new Idempotency-Key and payment pay-0002 captured" in text
    assert text.endswith("it reported the order completed.")
    assert text.index("pay-0001") < text.index("pay-0002")


def test_witness_same_key_retry_and_replay(world: SynthWorld) -> None:
    world.order("ord-r")
    pay = world.capture("ord-r")
    world.replay("payment", "/payments", "ord-r", pay["idempotency_key"], pay["payment_id"])
    world.report("ord-r", "failed")
    r = verdict(world)
    [v] = r.violations
    assert (
        "retried with the same Idempotency-Key and payment replayed its stored answer" in v.account
    )


def test_stock_witness_joins_by_reservation(world: SynthWorld) -> None:
    world.complete("ord-a")
    world.stock["SKU-0001"]["on_hand"] -= 1
    [v] = verdict(world).violations
    assert v.order_id is None
    assert any(e["path"] == "/reservations" for e in v.journal_lines)


# -- issue 10.5: witnesses read right for every phase ---------------------------------------


def _rule(rule_id: str, path: str, phase: str, kind: str, **params: object) -> dict[str, object]:
    return {
        "kind": kind,
        "target": "payment",
        "id": rule_id,
        "params": {"path": path, "method": "POST", "phase": phase, **params},
    }


def test_a_before_commit_fault_reads_as_nothing_done_without_placeholders(
    world: SynthWorld,
) -> None:
    world.order("ord-b")
    world.lookup("ord-b")
    rule = world.history.fault_applied(
        _rule("bad-pay", "/payments", "before_commit", "malformed"), "payment"
    )
    fault = {"rule_id": "bad-pay", "phase": "before_commit", "kind": "malformed"}
    world.log("payment", "POST", "/payments", 201, "ord-b", key="ord-b:capture", fault=fault)
    rule.healed()
    world.report("ord-b", "completed")
    [v] = [v for v in verdict(world).violations if v.order_id == "ord-b"][:1]
    story = v.account.split(". ", 1)[1].lower()
    assert "payment captured nothing (capture not done)" in story, story
    assert "answered instead, before commit: the client got 201 with a malformed body" in story
    assert "None" not in story and "?" not in story, story


def test_the_journal_shows_the_status_the_client_received(world: SynthWorld) -> None:
    from fracas.harness.checkers.witness import received
    from fracas.harness.report.common import journal_line

    world.order("ord-s")
    fault = {"rule_id": "r503", "phase": "after_commit", "kind": "status", "status": 503}
    world.capture("ord-s", fault=fault)
    world.t += 0.5
    world.capture("ord-s", key="ord-s:capture:2")
    world.report("ord-s", "failed")
    v = next(v for v in verdict(world).violations if v.rule == "double-charge")
    first = next(e for e in v.journal_lines if e["path"] == "/payments")
    assert first["status"] == 201  # what the fake did; the client never saw it
    assert received(first) == "503"
    line = journal_line(first, world.history.t0)
    assert " 503 " in line and " 201 " not in line, line
    assert "the client got 503" in v.account
    dropped = {**first, "fault": {"rule_id": "d", "phase": "after_commit", "kind": "drop"}}
    assert received(dropped) == "no answer (dropped)"


def test_faults_active_are_those_around_the_orders_requests(world: SynthWorld) -> None:
    """Two HTTP rules armed for the whole run, each hitting one order, and a toxic long
    after the first order ended: the first order's witness lists only the rule that hit it."""
    rule_a = world.history.fault_applied(
        _rule("rule-a", "/payments", "after_commit", "drop", order_id="ord-1"), "payment"
    )
    rule_b = world.history.fault_applied(
        _rule("rule-b", "/payments", "after_commit", "drop", order_id="ord-2"), "payment"
    )
    world.order("ord-1")
    world.capture("ord-1", fault={"rule_id": "rule-a", "phase": "after_commit", "kind": "drop"})
    world.capture("ord-1", key="ord-1:capture:2")
    world.report("ord-1", "completed")
    world.t += 30.0
    world.order("ord-2")
    toxic = world.history.fault_applied(
        {"name": "slow", "type": "latency", "stream": "downstream", "attributes": {}}, "payment"
    )
    world.capture("ord-2", fault={"rule_id": "rule-b", "phase": "after_commit", "kind": "drop"})
    toxic.healed()
    world.report("ord-2", "completed")
    rule_a.healed()
    rule_b.healed()
    r = verdict(world)
    v1 = next(v for v in r.violations if v.order_id == "ord-1" and v.rule == "double-charge")
    assert [f["fault"].get("id") for f in v1.faults] == ["rule-a"], v1.faults


def test_an_order_the_world_makes_fail_is_explained_from_its_intent() -> None:
    """An unknown customer's order that the orchestrator completed: the witness says what
    should have happened (from the contract's intent table), not the completed-order sums
    ("expected 1 capture") that take the wrong outcome as given (issue 18.6)."""
    from fracas.fakes.contract import intent
    from fracas.harness.checkers import check
    from fracas.harness.report import failure_text

    w = SynthWorld()
    w.order("ord-20", "cus-9999")
    w.lookup("ord-20")  # the CRM answered 404; the orchestrator went on as if it had not
    w.notify("ord-20", "order_confirmed")
    w.report("ord-20", "completed")
    w.complete("ord-21")
    snap = w.snapshot()
    snap.intents = {"ord-20": "unknown_customer", "ord-21": "ok"}
    (v,) = check(snap).violations
    assert v.rule == "completed-ledger" and v.order_id == "ord-20"
    assert intent("unknown_customer").expectation == "should have failed: unknown customer"
    assert v.message == ("order ord-20 should have failed: unknown customer, but it was "
                         "reported completed; its ledgers show 1 order_confirmed message(s)")  # fmt: skip
    assert v.expected == {"status": "failed (unknown customer)", "order_confirmed": 0}
    assert v.actual == {"status": "completed", "order_confirmed": 1}
    text = " ".join(failure_text(check(snap), w.history.t0).split())
    assert "should have failed: unknown customer" in text and "expected 1" not in text
    from fracas.harness.checkers import Snapshot

    assert Snapshot.from_json(snap.to_json()).intents == snap.intents  # a report keeps them
    # without the intent (a hand-built snapshot) the rule still judges the ledgers
    snap.intents = {}
    (plain,) = check(snap).violations
    assert plain.rule == "completed-ledger" and "expected 1" in plain.message
