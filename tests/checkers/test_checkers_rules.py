"""Every rule: a hand-built violating ledger names the right order and rule; tricky but
consistent end states raise no alarm."""

from __future__ import annotations

import pytest
from checkers_helpers import named, verdict
from synth_ledger import SynthWorld

from fracas.harness.checkers import CheckConfig, View, Violation, all_rules, check

ALL = {
    "completed-ledger",
    "failed-ledger",
    "needs-attention",
    "double-charge",
    "stock-conservation",
    "orphan-effects",
    "idempotency",
    "liveness",
    "reported-truth",
}


def test_every_rule_is_discovered() -> None:
    assert ALL <= set(all_rules())
    assert all(r.description for r in all_rules().values())


# -- no false alarms ----------------------------------------------------------------------


def tricky_but_consistent(w: SynthWorld) -> None:
    w.complete("ord-plain")
    w.fail_declined("ord-declined")
    w.fail_out_of_stock("ord-oos")  # captured, fully refunded, failed
    w.fail_undeliverable("ord-undeliverable")  # captured, reserved, released, refunded
    w.fail_blocked("ord-blocked")  # blocked customer: one order_failed (default reading)
    w.fail_unknown_customer("ord-ghost")  # unknown customer: no message required

    # completed: first reservation released, a second one held
    w.order("ord-rereserve")
    pay = w.capture("ord-rereserve")
    first = w.reserve("ord-rereserve")
    w.release(first)
    second = w.reserve("ord-rereserve", key="ord-rereserve:reserve:2")
    shp = w.ship("ord-rereserve", second)
    w.notify("ord-rereserve", "order_confirmed")
    w.report(
        "ord-rereserve",
        "completed",
        payment_id=pay["payment_id"],
        reservation_id=second["reservation_id"],
        shipment_id=shp["shipment_id"],
    )

    # completed: the capture's answer was lost, the retry was replayed by idempotency
    w.order("ord-replayed")
    pay = w.capture(
        "ord-replayed", fault={"rule_id": "lost", "phase": "after_commit", "kind": "drop"}
    )
    w.replay("payment", "/payments", "ord-replayed", pay["idempotency_key"], pay["payment_id"])
    res = w.reserve("ord-replayed")
    shp = w.ship("ord-replayed", res)
    w.cancel(shp)  # a cancelled shipment and a second one
    shp2 = w.ship("ord-replayed", res, key="ord-replayed:ship:2")
    w.notify("ord-replayed", "order_confirmed")
    w.report("ord-replayed", "completed", shipment_id=shp2["shipment_id"])

    # completed: one SKU on two lines; the reservation holds the sum in one line
    w.order(
        "ord-twolines", lines=[("SKU-0002", 1, 500), ("SKU-0002", 2, 500), ("SKU-0003", 1, 100)]
    )
    w.capture("ord-twolines")
    res = w.reserve(
        "ord-twolines", lines=[{"sku": "SKU-0003", "qty": 1}, {"sku": "SKU-0002", "qty": 3}]
    )
    w.ship("ord-twolines", res)
    w.notify("ord-twolines", "order_confirmed")
    w.report("ord-twolines", "completed")

    # failed after a partial refund and a second refund of the rest
    w.order("ord-tworefunds")
    pay = w.capture("ord-tworefunds")
    w.out_of_stock("ord-tworefunds")
    w.refund(pay, 100)
    w.refund(pay, key="ord-tworefunds:refund:rest")
    w.notify("ord-tworefunds", "order_failed")
    w.report("ord-tworefunds", "failed")

    # a high-risk customer rejected on review: failed, one order_failed
    w.order("ord-rejected", "cus-0005")
    w.notify("ord-rejected", "order_failed")
    w.report("ord-rejected", "failed", reason="review-rejected")


def test_consistent_end_state_is_accepted(world: SynthWorld) -> None:
    tricky_but_consistent(world)
    result = verdict(world, settle_seconds=30.0)
    assert result.errors == {}
    assert result.violations == [], [v.message for v in result.violations]
    assert set(result.rules) >= ALL


def test_tolerated_needs_attention_is_accepted(world: SynthWorld) -> None:
    world.order("ord-stuck")
    world.capture("ord-stuck")
    world.report("ord-stuck", "needs_attention")
    assert verdict(world, CheckConfig(needs_attention_tolerance=1)).ok
    assert named(verdict(world)) == {("needs-attention", "ord-stuck")}


# -- completed -----------------------------------------------------------------------------


def _completed_except(w: SynthWorld, oid: str, *, skip: str) -> None:
    w.order(oid)
    pay = w.capture(oid) if skip != "capture" else None
    res = w.reserve(oid) if skip != "reserve" else None
    if skip != "ship" and res is not None:
        w.ship(oid, res)
    if skip != "notify":
        w.notify(oid, "order_confirmed")
    w.report(oid, "completed")
    assert pay is not None or skip == "capture"


@pytest.mark.parametrize("skip", ["capture", "reserve", "ship", "notify"])
def test_completed_missing_step(world: SynthWorld, skip: str) -> None:
    world.complete("ord-ok")
    _completed_except(world, "ord-bad", skip=skip)
    r = verdict(world)
    assert ("completed-ledger", "ord-bad") in named(r)
    assert {o for _, o in named(r)} <= {"ord-bad", None}
    if skip == "reserve":  # the ship step was skipped with it
        assert r.violations[0].actual["held_reservations"] == 0


def test_completed_wrong_amount(world: SynthWorld) -> None:
    world.order("ord-cheap")
    world.capture("ord-cheap", amount=world.total("ord-cheap"))  # forgot the shipping quote
    res = world.reserve("ord-cheap")
    world.ship("ord-cheap", res)
    world.notify("ord-cheap", "order_confirmed")
    world.report("ord-cheap", "completed")
    r = verdict(world)
    assert named(r) == {("completed-ledger", "ord-cheap")}
    v = r.violations[0]
    assert "net charge" in v.message
    assert v.actual["net_charge_cents"] == world.total("ord-cheap")


def test_completed_with_order_failed_and_wrong_lines(world: SynthWorld) -> None:
    world.order("ord-x", lines=[("SKU-0001", 2, 100)])
    world.capture("ord-x")
    res = world.reserve("ord-x", lines=[{"sku": "SKU-0001", "qty": 1}])
    world.ship("ord-x", res)
    world.notify("ord-x", "order_confirmed")
    world.notify("ord-x", "order_failed")
    world.report("ord-x", "completed")
    v = verdict(world).violations[0]
    assert (v.rule, v.order_id) == ("completed-ledger", "ord-x")
    assert "order_failed" in v.message and "lines" in v.message


def test_completed_shipping_a_released_reservation(world: SynthWorld) -> None:
    world.order("ord-y")
    world.capture("ord-y")
    first = world.reserve("ord-y")
    shp = world.ship("ord-y", first)
    world.release(first)
    world.reserve("ord-y", key="ord-y:reserve:2")
    world.notify("ord-y", "order_confirmed")
    world.report("ord-y", "completed", shipment_id=shp["shipment_id"])
    assert named(verdict(world)) == {("completed-ledger", "ord-y")}


def test_completed_for_unknown_customer_cannot_be_priced(world: SynthWorld) -> None:
    world.order("ord-ghost", "cus-9999")
    world.report("ord-ghost", "completed")
    v = verdict(world).violations[0]
    assert (v.rule, v.order_id) == ("completed-ledger", "ord-ghost")
    assert "cannot be recomputed" in v.message


# -- failed ---------------------------------------------------------------------------------


def test_failed_but_still_charged(world: SynthWorld) -> None:
    world.order("ord-f")
    world.capture("ord-f")
    world.out_of_stock("ord-f")
    world.notify("ord-f", "order_failed")
    world.report("ord-f", "failed")
    r = verdict(world)
    assert named(r) == {("failed-ledger", "ord-f")}
    assert r.violations[0].actual["net_charge_cents"] > 0


def test_failed_leaves_reservation_and_shipment(world: SynthWorld) -> None:
    world.order("ord-f")
    pay = world.capture("ord-f")
    res = world.reserve("ord-f")
    world.ship("ord-f", res)
    world.refund(pay)
    world.notify("ord-f", "order_failed")
    world.report("ord-f", "failed")
    v = verdict(world).violations[0]
    assert (v.rule, v.order_id) == ("failed-ledger", "ord-f")
    assert "still held" in v.message and "not cancelled" in v.message


def test_failed_confirmed_and_not_notified(world: SynthWorld) -> None:
    world.order("ord-f")
    world.notify("ord-f", "order_confirmed")
    world.report("ord-f", "failed")
    v = verdict(world).violations[0]
    assert (v.rule, v.order_id) == ("failed-ledger", "ord-f")
    assert v.actual == {"order_confirmed": 1, "order_failed": 0}


def test_failed_unknown_customer_duplicate_notice(world: SynthWorld) -> None:
    world.fail_unknown_customer("ord-ghost")
    world.notify("ord-ghost", "order_failed")
    assert verdict(world).ok  # one is tolerated
    world.notify("ord-ghost", "order_failed", key="again")
    assert named(verdict(world)) == {("failed-ledger", "ord-ghost")}


@pytest.mark.parametrize(
    ("mode", "notify", "ok"),
    [
        ("required", True, True),
        ("required", False, False),
        ("optional", True, True),
        ("optional", False, True),
        ("forbidden", True, False),
        ("forbidden", False, True),
    ],
)
def test_blocked_customer_notice_is_configurable(
    world: SynthWorld, mode: str, notify: bool, ok: bool
) -> None:
    world.fail_blocked("ord-b", notify=notify)
    r = verdict(world, CheckConfig(blocked_customer_notice=mode))  # type: ignore[arg-type]
    assert r.ok is ok
    if not ok:
        assert named(r) == {("failed-ledger", "ord-b")}


# -- double charge, idempotency, orphans ------------------------------------------------------


def test_double_charge_even_when_refunded(world: SynthWorld) -> None:
    world.order("ord-dc")
    first = world.capture(
        "ord-dc", fault={"rule_id": "lost", "phase": "after_commit", "kind": "drop"}
    )
    world.capture("ord-dc", key="ord-dc:capture:retry")
    world.refund(first)  # the orchestrator noticed and refunded: still a double charge
    res = world.reserve("ord-dc")
    world.ship("ord-dc", res)
    world.notify("ord-dc", "order_confirmed")
    world.report("ord-dc", "completed")
    world.complete("ord-fine")
    assert named(verdict(world)) == {("double-charge", "ord-dc")}


def test_idempotency_key_with_two_effects(world: SynthWorld) -> None:
    world.complete("ord-i")
    world.notify("ord-i", "order_confirmed", key="ord-i:notify:order_confirmed")
    r = verdict(world)
    assert ("idempotency", "ord-i") in named(r)
    assert ("completed-ledger", "ord-i") in named(r)  # two confirmations, too
    v = next(v for v in r.violations if v.rule == "idempotency")
    assert len(v.ledger_rows) == 2


def test_null_keys_are_not_collisions(world: SynthWorld) -> None:
    world.complete("ord-a")
    world.complete("ord-b")
    for m in world.messages:
        m["idempotency_key"] = None
    assert verdict(world).ok


def test_orphan_effect(world: SynthWorld) -> None:
    world.complete("ord-a")
    world.order("ord-b")
    world.capture("ord-b")
    del world.orders["ord-b"]  # an effect nobody submitted
    r = verdict(world)
    assert named(r) == {("orphan-effects", "ord-b")}


# -- stock ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_hand", "held", "words"),
    [(-1, 0, "seeded"), (5, 0, "seeded"), (None, -2, "negative")],
)
def test_stock_not_conserved(world: SynthWorld, on_hand: int | None, held: int, words: str) -> None:
    world.complete("ord-a")
    s = world.stock["SKU-0005"]
    if on_hand is not None:
        s["on_hand"] += on_hand
    if held:
        s["held"] += held
        s["on_hand"] -= held
    r = verdict(world)
    assert named(r) == {("stock-conservation", None)}
    assert "SKU-0005" in r.violations[0].message and words in r.violations[0].message


def test_stock_held_must_match_reservations(world: SynthWorld) -> None:
    world.complete("ord-a")
    world.reservations[0]["status"] = "released"  # lost without giving stock back
    r = verdict(world)
    assert ("stock-conservation", None) in named(r)
    assert ("completed-ledger", "ord-a") in named(r)


# -- liveness -------------------------------------------------------------------------------


def test_non_terminal_and_unknown_orders(world: SynthWorld) -> None:
    world.complete("ord-a")
    world.order("ord-run")
    world.report("ord-run", "running")
    world.order("ord-lost")
    world.report("ord-lost", None)
    world.order("ord-never-read")
    assert named(verdict(world)) == {
        ("liveness", "ord-run"),
        ("liveness", "ord-lost"),
        ("liveness", "ord-never-read"),
    }


def test_terminal_too_late_after_last_heal(world: SynthWorld) -> None:
    world.order("ord-slow")
    fault = world.history.fault_applied(
        {"type": "timeout", "attributes": {"timeout": 0}}, "payment"
    )
    world.capture("ord-slow")
    fault.healed()
    world.t += 20.0
    res = world.reserve("ord-slow")
    world.ship("ord-slow", res)
    world.notify("ord-slow", "order_confirmed")
    world.report("ord-slow", "completed")
    assert verdict(world, settle_seconds=30.0).ok
    r = verdict(world, settle_seconds=10.0)
    assert named(r) == {("liveness", "ord-slow")}
    assert r.violations[0].faults and r.violations[0].faults[0]["target"] == "payment"


def test_unhealed_fault_suspends_timing(world: SynthWorld) -> None:
    world.order("ord-slow")
    world.history.fault_applied({"kind": "pause"}, "inventory")
    world.t += 100.0
    world.capture("ord-slow")
    res = world.reserve("ord-slow")
    world.ship("ord-slow", res)
    world.notify("ord-slow", "order_confirmed")
    world.report("ord-slow", "completed")
    assert verdict(world, settle_seconds=1.0).ok


# -- reported truth ---------------------------------------------------------------------------


def test_reported_ids_must_be_the_orders(world: SynthWorld) -> None:
    a = world.complete("ord-a")
    world.complete("ord-b")
    world.reported["ord-b"] = {**world.reported["ord-b"], "payment_id": a["payment"]["payment_id"]}  # type: ignore[dict-item]
    assert named(verdict(world)) == {("reported-truth", "ord-b")}


def test_reported_status_vocabulary_and_missing_ids(world: SynthWorld) -> None:
    world.complete("ord-a")
    world.reported["ord-a"] = {**world.reported["ord-a"], "status": "done"}  # type: ignore[dict-item]
    world.complete("ord-b")
    world.reported["ord-b"] = {**world.reported["ord-b"], "shipment_id": "shp-nope"}  # type: ignore[dict-item]
    r = verdict(world)
    assert ("reported-truth", "ord-a") in named(r) and ("reported-truth", "ord-b") in named(r)
    assert ("liveness", "ord-a") in named(r)  # "done" is not terminal either


def test_completed_reporting_a_refunded_payment(world: SynthWorld) -> None:
    world.order("ord-c")
    old = world.capture("ord-c")
    world.refund(old)
    world.capture("ord-c", key="ord-c:capture:2")
    res = world.reserve("ord-c")
    world.ship("ord-c", res)
    world.notify("ord-c", "order_confirmed")
    world.report("ord-c", "completed", payment_id=old["payment_id"])
    assert named(verdict(world)) == {("reported-truth", "ord-c"), ("double-charge", "ord-c")}


# -- engine -----------------------------------------------------------------------------------


def test_rule_selection_and_crashing_rule(world: SynthWorld) -> None:
    from fracas.harness.checkers.registry import rule, unregister

    world.order("ord-run")
    world.report("ord-run", "running")

    @rule("test-crash")
    def crash(view: View) -> list[Violation]:
        """Always crashes."""
        raise RuntimeError("boom")

    try:
        r = check(world.snapshot())
        assert "test-crash" in r.errors and not r.ok
        assert ("liveness", "ord-run") in named(r)  # the others still ran
        only = check(world.snapshot(), CheckConfig(rules=frozenset({"double-charge"})))
        assert only.rules == ["double-charge"] and only.ok
    finally:
        unregister("test-crash")


def test_refused_submission_needs_no_status_but_no_effects(world: SynthWorld) -> None:
    world.complete("ord-a")
    world.orders["ord-refused"] = {
        "order_id": "ord-refused",
        "customer_id": "cus-0001",
        "currency": "EUR",
        "card_token": "tok_ok",
        "lines": [{"sku": "SKU-0001", "qty": 1, "unit_price_cents": 1}],
    }
    world.history.invoke("submit", "ord-refused").fail(http_status=409)
    world.report("ord-refused", None)
    assert verdict(world).ok
    world.capture("ord-refused")
    r = verdict(world)
    assert named(r) == {("liveness", "ord-refused")}
    assert "refused at submission" in r.violations[0].message
    # an unknown outcome is not a refusal
    world.history.invoke("submit", "ord-refused").unknown(error="timeout")
    assert "never reached" in verdict(world).violations[0].message
