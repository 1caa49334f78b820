"""The witness: joined journal lines, faults in the window, and a readable account."""

from __future__ import annotations

from checkers_helpers import verdict

from harness.checkers.synth import World


def lost_capture_retried_with_new_key(w: World) -> None:
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


def test_double_charge_witness(world: World) -> None:
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


def test_witness_same_key_retry_and_replay(world: World) -> None:
    world.order("ord-r")
    pay = world.capture("ord-r")
    world.replay("payment", "/payments", "ord-r", pay["idempotency_key"], pay["payment_id"])
    world.report("ord-r", "failed")
    r = verdict(world)
    [v] = r.violations
    assert (
        "retried with the same Idempotency-Key and payment replayed its stored answer" in v.account
    )


def test_stock_witness_joins_by_reservation(world: World) -> None:
    world.complete("ord-a")
    world.stock["SKU-0001"]["on_hand"] -= 1
    [v] = verdict(world).violations
    assert v.order_id is None
    assert any(e["path"] == "/reservations" for e in v.journal_lines)
