"""Lost and garbled answers from the real fakes: no double effect, no wrong completion."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from orch_helpers import (
    Orchestrator,
    assert_consistent,
    happy_orders,
    journals,
    judge,
    ledgers,
    line,
    order,
    rows,
    the_world,
)

from fracas.harness.checkers import CheckConfig
from fracas.harness.run.services import FakeProcess

W = the_world()
SHAPES = ("invalid_json", "truncated", "empty", "html", "wrong_types", "missing_fields")
# step -> (service, method, path pattern)
STEPS: dict[str, tuple[str, str, str]] = {
    "customer": ("crm", "GET", "/customers/*"),
    "quote": ("shipping", "POST", "/quotes"),
    "capture": ("payment", "POST", "/payments"),
    "reserve": ("inventory", "POST", "/reservations"),
    "ship": ("shipping", "POST", "/shipments"),
    "confirm": ("notify", "POST", "/messages"),
}
# compensation steps, exercised on orders that are refused at shipment
COMP_STEPS: dict[str, tuple[str, str, str]] = {
    "release": ("inventory", "POST", "/reservations/*/release"),
    "refund": ("payment", "POST", "/payments/*/refunds"),
    "notify_failed": ("notify", "POST", "/messages"),
}


def put_faults(fakes: dict[str, FakeProcess], rules: dict[str, list[dict[str, Any]]]) -> None:
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        for service, service_rules in rules.items():
            r = http.put(f"{fakes[service].url}/_fracas/faults", json=service_rules)
            assert r.status_code == 200, r.text


def fired(fakes: dict[str, FakeProcess]) -> int:
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        return sum(
            r["fired"]
            for f in fakes.values()
            for r in http.get(f"{f.url}/_fracas/faults").json()["rules"]
        )


def test_lost_answers_after_commit_make_no_double_effect(orch: Orchestrator) -> None:
    orders = happy_orders(30, "lost")
    rules: dict[str, list[dict[str, Any]]] = {"payment": [], "inventory": [], "shipping": []}
    for o in orders:
        oid = o["order_id"]
        for service, path in (
            ("payment", "/payments"), ("inventory", "/reservations"), ("shipping", "/shipments"),
        ):  # fmt: skip
            rules[service].append(
                {
                    "id": f"lost-{service}-{oid}",
                    "match": {"method": "POST", "path": path, "order_id": oid, "nth": [1]},
                    "phase": "after_commit",
                    "action": {"kind": "drop"},
                    "times": 1,
                }
            )
    put_faults(orch.fakes, rules)
    for o in orders:
        assert orch.submit(o).status_code == 202
    statuses = orch.wait_terminal([o["order_id"] for o in orders], timeout=90)
    assert {statuses[o["order_id"]] for o in orders} == {"completed"}
    assert fired(orch.fakes) == 3 * len(orders)
    assert_consistent(judge(orch, orders))
    # every effect was made once and replayed once, under the same key
    entries = journals(orch.fakes)
    replays = [e for e in entries["payment"] if e["replayed"] and e["path"] == "/payments"]
    assert len(replays) == len(orders)


def _malformed_rules(
    cases: list[tuple[str, str, str, tuple[str, str, str]]],
) -> dict[str, list[dict[str, Any]]]:
    rules: dict[str, list[dict[str, Any]]] = {}
    for oid, shape, phase, (service, method, path) in cases:
        match: dict[str, Any] = {"method": method, "path": path, "order_id": oid, "nth": [1]}
        rules.setdefault(service, []).append(
            {
                "id": f"bad-{oid}",
                "match": match,
                "phase": phase,
                "action": {"kind": "malformed", "shape": shape},
                "times": 1,
            }
        )
    return rules


def test_malformed_answers_every_shape_every_step(orch: Orchestrator) -> None:
    """6 shapes x 6 forward steps x 2 phases, once each: every order still completes."""
    ordinary = [c.customer_id for c in W.ordinary_customers()]
    skus = [s.sku for s in W.stocked_skus(40)]
    orders: list[dict[str, Any]] = []
    cases = []
    n = 0
    for step, where in STEPS.items():
        for shape in SHAPES:
            for phase in ("before_commit", "after_commit"):
                oid = f"mal-{step}-{shape}-{phase[:5]}"
                o = order(oid, ordinary[n % len(ordinary)], [line(skus[n % len(skus)])])
                n += 1
                orders.append(o)
                cases.append((oid, shape, phase, where))
    put_faults(orch.fakes, _malformed_rules(cases))
    for o in orders:
        assert orch.submit(o).status_code == 202
    statuses = orch.wait_terminal([o["order_id"] for o in orders], timeout=120)
    wrong = {oid: s for oid, s in statuses.items() if s != "completed"}
    assert not wrong, wrong
    assert fired(orch.fakes) == len(orders)
    assert_consistent(judge(orch, orders))


def test_malformed_answers_on_compensation_steps(orch: Orchestrator) -> None:
    """Refused shipments compensate through garbled answers: nothing left charged or held."""
    far = [c.customer_id for c in W.undeliverable_customers() if c.risk == "low"]
    skus = [s.sku for s in W.stocked_skus(40)]
    orders: list[dict[str, Any]] = []
    cases = []
    n = 0
    for step, where in COMP_STEPS.items():
        for shape in SHAPES:
            for phase in ("before_commit", "after_commit"):
                oid = f"malc-{step}-{shape}-{phase[:5]}"
                orders.append(order(oid, far[n % len(far)], [line(skus[n % len(skus)])]))
                n += 1
                cases.append((oid, shape, phase, where))
    put_faults(orch.fakes, _malformed_rules(cases))
    for o in orders:
        orch.submit(o)
    statuses = orch.wait_terminal([o["order_id"] for o in orders], timeout=120)
    wrong = {oid: s for oid, s in statuses.items() if s != "failed"}
    assert not wrong, wrong
    assert fired(orch.fakes) == len(orders)
    assert_consistent(judge(orch, orders))


@pytest.mark.parametrize("phase", ["before_commit", "after_commit"])
def test_persistently_garbled_capture_is_looked_up_never_assumed(
    start_orchestrator: Any, phase: str
) -> None:
    """Every capture answer garbled (budget runs out): the ledger decides, via ?order_id=."""
    orch: Orchestrator = start_orchestrator(env={"FRACAS_RETRY_ATTEMPTS": "3"})
    orders = happy_orders(6, f"garbled-{phase[:5]}")
    rules = {
        "payment": [
            {
                "id": f"always-{i}",
                "match": {"method": "POST", "path": "/payments", "order_id": o["order_id"]},
                "phase": phase,
                "action": {"kind": "malformed", "shape": shape},
            }
            for i, (o, shape) in enumerate(zip(orders, SHAPES, strict=True))
        ]
    }
    put_faults(orch.fakes, rules)
    for o in orders:
        orch.submit(o)
    statuses = orch.wait_terminal([o["order_id"] for o in orders], timeout=60)
    state = ledgers(orch.fakes)
    for o in orders:
        oid = o["order_id"]
        payments = rows(state["payment"], "payments", oid)
        if phase == "after_commit":
            # the capture happened: looked up, adopted, the order went on
            assert statuses[oid] == "completed", (oid, statuses[oid])
            assert len(payments) == 1
        else:
            # nothing was ever captured: the order failed cleanly, having charged nothing
            assert statuses[oid] == "failed", (oid, statuses[oid])
            assert payments == []
            assert orch.get(oid)["reason"] == "payment-unavailable"
    assert_consistent(judge(orch, orders, CheckConfig(needs_attention_tolerance=0)))


STATUS_FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("after_commit", {"kind": "status", "status": 500}),
    ("after_commit", {"kind": "status", "status": 409}),
    ("after_commit", {"kind": "status", "status": 402}),
    ("before_commit", {"kind": "status", "status": 429, "retry_after": 0.2}),
    ("before_commit", {"kind": "status", "status": 503}),
    ("after_commit", {"kind": "reset"}),
    ("before_commit", {"kind": "drop"}),
]


def test_injected_statuses_and_resets_on_effectful_steps(orch: Orchestrator) -> None:
    """An injected 4xx/5xx, before or after commit, is never taken for a business 'no'."""
    orders = happy_orders(len(STATUS_FAULTS) * 3, "status")
    rules: dict[str, list[dict[str, Any]]] = {}
    steps = [("payment", "/payments"), ("inventory", "/reservations"), ("shipping", "/shipments")]
    for i, o in enumerate(orders):
        phase, action = STATUS_FAULTS[i % len(STATUS_FAULTS)]
        service, path = steps[i // len(STATUS_FAULTS)]
        rules.setdefault(service, []).append(
            {
                "id": f"st-{o['order_id']}",
                "match": {"method": "POST", "path": path, "order_id": o["order_id"], "nth": [1]},
                "phase": phase,
                "action": action,
                "times": 1,
            }
        )
    put_faults(orch.fakes, rules)
    for o in orders:
        orch.submit(o)
    statuses = orch.wait_terminal([o["order_id"] for o in orders], timeout=60)
    wrong = {oid: s for oid, s in statuses.items() if s != "completed"}
    assert not wrong, wrong
    assert fired(orch.fakes) == len(orders)
    assert_consistent(judge(orch, orders))


@pytest.mark.parametrize("shape", ["truncated", "wrong_types"])
def test_unresolved_shipment_is_found_and_cancelled_by_compensation(
    start_orchestrator: Any, shape: str
) -> None:
    """Every shipment answer lost and the forward lookup failing too: the saga gives up
    on shipping, and compensation finds the shipment by order_id and cancels it (its
    first cancel answer garbled as well)."""
    orch: Orchestrator = start_orchestrator(env={"FRACAS_RETRY_ATTEMPTS": "3"})
    body = happy_orders(1, f"unship-{shape}")[0]
    oid = body["order_id"]
    put_faults(
        orch.fakes,
        {
            "shipping": [
                {
                    "id": "lost-ship",
                    "match": {"method": "POST", "path": "/shipments", "order_id": oid},
                    "phase": "after_commit",
                    "action": {"kind": "drop"},
                    "times": 3,
                },
                {
                    "id": "no-lookup",
                    "match": {"method": "GET", "path": "/shipments", "order_id": oid},
                    "action": {"kind": "status", "status": 503},
                    "times": 3,
                },
                {
                    "id": "bad-cancel",
                    "match": {"method": "POST", "path": "/shipments/*/cancel", "order_id": oid},
                    "phase": "after_commit",
                    "action": {"kind": "malformed", "shape": shape},
                    "times": 1,
                },
            ]
        },
    )
    orch.submit(body)
    view = orch.wait_status(oid, {"completed", "failed", "needs_attention"})
    assert view["status"] == "failed" and view["reason"] == "shipping-unavailable", view
    assert fired(orch.fakes) == 7
    state = ledgers(orch.fakes)
    (shipment,) = rows(state["shipping"], "shipments", oid)
    assert shipment["status"] == "cancelled"
    assert_consistent(judge(orch, [body]))
