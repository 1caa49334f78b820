"""Slow and dead services: other orders keep moving, and no money stays charged."""

from __future__ import annotations

from typing import Any

import httpx
from orch_helpers import (
    Orchestrator,
    assert_consistent,
    happy_orders,
    judge,
    ledgers,
    line,
    order,
    rows,
    the_world,
)

from fracas.harness.kit.waiting import wait_until

W = the_world()
STOCKED = W.stocked_skus(40)[0].sku


def test_a_slow_payment_does_not_hold_up_orders_at_other_steps(start_orchestrator: Any) -> None:
    orch: Orchestrator = start_orchestrator(env={"FRACAS_CALL_TIMEOUT": "5"})
    slow = {
        "id": "slow-capture",
        "match": {"method": "POST", "path": "/payments"},
        "phase": "before_commit",
        "action": {"kind": "delay", "ms": 3000},
    }
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        http.put(f"{orch.fakes['payment'].url}/_fracas/faults", json=[slow]).raise_for_status()
    stuck = happy_orders(20, "slowpay")
    for o in stuck:
        orch.submit(o)
    wait_until(
        lambda: all(orch.get(o["order_id"])["status"] == "running" for o in stuck), 10.0
    )
    blocked = [
        order(f"quick-{i}", c.customer_id, [line(STOCKED)])
        for i, c in enumerate(W.blocked_customers())
    ]
    for o in blocked:
        orch.submit(o)
    orch.wait_terminal([o["order_id"] for o in blocked], timeout=10.0)
    # The blocked orders finished while the captures were still parked in the delay.
    assert all(orch.get(o["order_id"])["status"] == "running" for o in stuck[-5:])
    statuses = orch.wait_terminal([o["order_id"] for o in stuck], timeout=30.0)
    assert set(statuses[o["order_id"]] for o in stuck) == {"completed"}
    assert_consistent(judge(orch, stuck + blocked))


def _hold_capture(orch: Orchestrator, oid: str) -> None:
    rule = {
        "id": "hold-capture",
        "match": {"method": "POST", "path": "/payments", "order_id": oid, "nth": [1]},
        "phase": "after_commit",
        "action": {"kind": "hold"},
        "times": 1,
    }
    payment = orch.fakes["payment"]
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        http.put(f"{payment.url}/_fracas/faults", json=[rule]).raise_for_status()

        def held() -> bool:
            r = http.get(f"{payment.url}/_fracas/held", params={"wait": 1})
            body = r.json()
            items = body if isinstance(body, list) else body.get("held", [])
            return bool(items)

        orch.submit(happy_orders(1, oid.rsplit("-", 1)[0])[0] | {"order_id": oid})
        wait_until(held, 15.0, interval=0.05, what="capture held after commit")


def _lost_capture_then_payment_dies(
    start_orchestrator: Any, oid: str, compensation_budget: float
) -> Orchestrator:
    orch: Orchestrator = start_orchestrator(
        env={
            "FRACAS_RETRY_BUDGET": "1",
            "FRACAS_COMPENSATION_BUDGET": str(compensation_budget),
        }
    )
    _hold_capture(orch, oid)
    orch.fakes["payment"].kill()  # the capture is committed; its answer never comes
    return orch


def test_ambiguous_capture_with_payment_dead_is_escalated_then_resolved(
    start_orchestrator: Any,
) -> None:
    oid = "deadpay-0001"
    orch = _lost_capture_then_payment_dies(start_orchestrator, oid, 1.5)
    view = orch.wait_status(oid, {"needs_attention"}, timeout=30.0)
    assert "comp:refund" in view["reason"] and "payment-unavailable" in view["reason"]
    listed = orch.http.get("/orders", params={"status": "needs_attention"}).json()["orders"]
    assert [o["order_id"] for o in listed] == [oid]
    # A person brings payment back and retries the escalated order: the capture the
    # orchestrator never heard about is found by order_id and refunded.
    orch.fakes["payment"].restart()
    r = orch.http.post(f"/_admin/orders/{oid}/resume")
    assert r.status_code == 200, r.text
    view = orch.wait_status(oid, {"failed", "needs_attention"}, timeout=30.0)
    assert view["status"] == "failed", view
    (payment,) = rows(ledgers(orch.fakes)["payment"], "payments", oid)
    assert payment["refunded_cents"] == payment["amount_cents"]


def test_ambiguous_capture_resolved_when_payment_returns_in_time(
    start_orchestrator: Any,
) -> None:
    oid = "backpay-0001"
    orch = _lost_capture_then_payment_dies(start_orchestrator, oid, 30.0)
    # Once the forward budget is spent the saga is compensating; payment comes back.
    wait_until(
        lambda: any(e["step"] == "capture" for e in orch.events(oid)), 30.0, interval=0.05
    )
    orch.fakes["payment"].restart()
    view = orch.wait_status(oid, {"failed", "completed", "needs_attention"}, timeout=30.0)
    payments = rows(ledgers(orch.fakes)["payment"], "payments", oid)
    assert len(payments) == 1
    if view["status"] == "failed":
        assert payments[0]["refunded_cents"] == payments[0]["amount_cents"]
    else:
        assert view["status"] == "completed", view
    assert_consistent(judge(orch, [orch_order(orch, oid)]))


def orch_order(orch: Orchestrator, oid: str) -> dict[str, Any]:
    return happy_orders(1, oid.rsplit("-", 1)[0])[0] | {"order_id": oid}


def test_crm_down_fails_cleanly_and_still_tells_the_customer(start_orchestrator: Any) -> None:
    orch: Orchestrator = start_orchestrator(env={"FRACAS_RETRY_BUDGET": "1"})
    body = happy_orders(1, "nocrm")[0]
    orch.fakes["crm"].kill()
    orch.submit(body)
    view = orch.wait_status(body["order_id"], {"failed", "completed", "needs_attention"})
    orch.fakes["crm"].restart()
    assert view["status"] == "failed" and view["reason"] == "crm-unavailable", view
    state = ledgers(orch.fakes)
    assert rows(state["payment"], "payments", body["order_id"]) == []
    assert [m["template"] for m in rows(state["notify"], "messages", body["order_id"])] == [
        "order_failed"
    ]
    assert_consistent(judge(orch, [body]))
