"""Property tests: any mix of consistent saga paths is accepted; any single corruption of
one order is reported against that order."""

from __future__ import annotations

from typing import Any

from checkers_helpers import named
from hypothesis import given, settings
from hypothesis import strategies as st
from synth_ledger import SynthWorld

from fracas.harness.checkers import check

PATHS = [
    "complete",
    "declined",
    "oos",
    "undeliverable",
    "blocked",
    "ghost",
    "replayed",
    "rereserve",
]
LINES = st.lists(
    st.tuples(
        st.sampled_from([f"SKU-{i:04d}" for i in range(1, 11)]),
        st.integers(1, 4),
        st.integers(1, 9999),
    ),
    min_size=1,
    max_size=3,
)


def build(w: SynthWorld, oid: str, path: str, lines: list[tuple[str, int, int]]) -> None:
    if path == "complete":
        w.complete(oid, "cus-0001", lines)
    elif path == "declined":
        w.fail_declined(oid)
    elif path == "oos":
        w.fail_out_of_stock(oid)
    elif path == "undeliverable":
        w.fail_undeliverable(oid)
    elif path == "blocked":
        w.fail_blocked(oid)
    elif path == "ghost":
        w.fail_unknown_customer(oid)
    elif path == "replayed":
        w.order(oid, "cus-0002", lines)
        pay = w.capture(oid, fault={"rule_id": "r", "phase": "after_commit", "kind": "drop"})
        w.replay("payment", "/payments", oid, pay["idempotency_key"], pay["payment_id"])
        res = w.reserve(oid)
        w.ship(oid, res)
        w.notify(oid, "order_confirmed")
        w.report(oid, "completed")
    else:
        w.order(oid, "cus-0003", lines)
        w.capture(oid)
        first = w.reserve(oid)
        w.release(first)
        second = w.reserve(oid, key=f"{oid}:reserve:2")
        w.ship(oid, second)
        w.notify(oid, "order_confirmed")
        w.report(oid, "completed")


WORLDS = st.lists(st.tuples(st.sampled_from(PATHS), LINES), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(WORLDS)
def test_consistent_worlds_are_accepted(plan: list[tuple[str, list[Any]]]) -> None:
    w = SynthWorld()
    for i, (path, lines) in enumerate(plan):
        build(w, f"ord-{i}", path, lines)
    r = check(w.snapshot(settle_seconds=60.0))
    assert r.ok, [v.message for v in r.violations]


def corrupt(w: SynthWorld, oid: str, how: int) -> bool:
    """Break one order; False when this corruption does not apply to its path."""
    pays = [p for p in w.payments if p["order_id"] == oid]
    ress = [r for r in w.reservations if r["order_id"] == oid]
    ships = [s for s in w.shipments if s["order_id"] == oid]
    msgs = [m for m in w.messages if m["order_id"] == oid]
    status = (w.reported.get(oid) or {}).get("status")
    if how == 0 and pays:  # the refund never happened / a cent too much
        pays[0]["refunded_cents"] = (
            max(0, pays[0]["refunded_cents"] - 1) if pays[0]["refunded_cents"] else 1
        )
        return True
    if how == 1:  # a second capture
        w.capture(oid, amount=100, key=f"{oid}:again")
        return True
    if how == 2 and msgs:  # the message was lost
        w.messages.remove(msgs[0])
        return True
    if how == 3 and status == "failed" and w.customer_index().get(w.orders[oid]["customer_id"]):
        w.notify(oid, "order_failed", key=f"{oid}:dup")  # a duplicate notice
        return True
    if how == 4 and ress:  # a release that never happened (stock says released)
        r = ress[-1]
        if r["status"] == "released":
            r["status"] = "held"
            return True
    if how == 5 and ships:  # a shipment cancelled behind the orchestrator's back
        if ships[-1]["status"] == "created":
            ships[-1]["status"] = "cancelled"
            return True
    if how == 6:  # the orchestrator lost the order
        w.reported[oid] = None
        return True
    if how == 7:  # it says the opposite of what happened
        w.reported[oid] = {
            "order_id": oid,
            "status": "failed" if status == "completed" else "completed",
        }
        return True
    return False


@settings(max_examples=120, deadline=None)
@given(WORLDS, st.data())
def test_one_corrupted_order_is_named(
    plan: list[tuple[str, list[Any]]], data: st.DataObject
) -> None:
    w = SynthWorld()
    for i, (path, lines) in enumerate(plan):
        build(w, f"ord-{i}", path, lines)
    victim = f"ord-{data.draw(st.integers(0, len(plan) - 1))}"
    how = data.draw(st.integers(0, 7))
    if not corrupt(w, victim, how):
        return
    r = check(w.snapshot())
    assert not r.ok
    orders = {o for _, o in named(r)}
    assert victim in orders or (None in orders and how == 4), (how, named(r))
    assert orders <= {victim, None}, (how, named(r))
