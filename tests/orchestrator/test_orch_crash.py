"""SIGKILL the orchestrator while 200 orders are in flight, ten times, and check the ledgers."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from orch_helpers import (
    DECLINE_TOKEN,
    TERMINAL,
    Orchestrator,
    assert_consistent,
    judge,
    line,
    order,
    the_world,
)

from fracas.harness.kit.waiting import wait_until

W = the_world()
SEED = 20261126


def mixed_orders(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Mostly happy orders, with every failure path mixed in (and contention on low stock)."""
    ordinary = [c.customer_id for c in W.ordinary_customers()]
    far = [c.customer_id for c in W.undeliverable_customers() if c.risk == "low"]
    blocked = [c.customer_id for c in W.blocked_customers()]
    risky = [c.customer_id for c in W.high_risk_customers() if W.served(c.address.country)]
    stocked = [s.sku for s in W.stocked_skus(40)]
    low = [s.sku for s in W.low_stock_skus()]
    out = []
    for i in range(n):
        oid = f"crash-{i:04d}"
        roll = rng.random()
        lines = [line(rng.choice(stocked), rng.randint(1, 2))]
        token = "tok_ok_4242"
        customer = rng.choice(ordinary)
        if roll < 0.10:
            customer = rng.choice(far)
        elif roll < 0.15:
            token = DECLINE_TOKEN
        elif roll < 0.20:
            customer = rng.choice(blocked)
        elif roll < 0.30:
            lines.append(line(rng.choice(low), 1))
        elif roll < 0.35:
            customer = rng.choice(risky)
        out.append(order(oid, customer, lines, token))
    return out


def submit_all(orch: Orchestrator, orders: list[dict[str, Any]]) -> None:
    for o in orders:
        wait_until(
            lambda o=o: orch.submit(o).status_code in (200, 202),
            30.0,
            interval=0.05,
            what=f"submit {o['order_id']}",
        )


def terminal_count(orch: Orchestrator) -> int:
    try:
        return sum(1 for s in orch.statuses().values() if s in TERMINAL)
    except httpx.HTTPError:
        return -1


@pytest.mark.slow
def test_sigkill_ten_times_with_200_orders_in_flight(orch: Orchestrator) -> None:
    rng = random.Random(SEED)
    orders = mixed_orders(200, rng)
    risky = {c.customer_id for c in W.high_risk_customers()}
    reviewed = [o["order_id"] for o in orders if o["customer_id"] in risky]
    # Kill moments are progress points (orders finished so far), drawn from the seed,
    # so every kill lands with orders at every step, whatever the machine's speed.
    thresholds = sorted(rng.sample(range(5, 150), 10))

    _slow_every_call(orch)
    submit_all(orch, orders[:100])
    kills = 0
    for i, threshold in enumerate(thresholds):
        wait_until(
            lambda t=threshold: terminal_count(orch) >= t,
            60.0,
            interval=0.02,
            what=f"{threshold} orders terminal before kill {i + 1}",
        )
        orch.crash_restart()
        kills += 1
        if i == 2:
            submit_all(orch, orders[100:])  # the rest arrive between crashes
        if i == 5:
            for n, oid in enumerate(reviewed[: len(reviewed) // 2]):
                orch.wait_status(oid, {"awaiting_review"})
                orch.review(oid, "approve" if n % 2 == 0 else "reject")
    assert kills == 10
    _all_ended_consistent(orch, orders)
    # The kills really landed mid-saga: many orders were resumed at some step.
    resumed = {
        o["order_id"]: [e["step"] for e in orch.events(o["order_id"]) if e["outcome"] == "resumed"]
        for o in orders
    }
    resumed_steps = {step for steps in resumed.values() for step in steps}
    assert sum(1 for steps in resumed.values() if steps) >= 20, resumed_steps
    assert len(resumed_steps) >= 4, resumed_steps


@pytest.mark.parametrize(
    "service,path",
    [("payment", "/payments"), ("inventory", "/reservations"), ("shipping", "/shipments")],
)
def test_crash_exactly_between_commit_and_answer(
    orch: Orchestrator, service: str, path: str
) -> None:
    """hold after_commit: the effect is made, the orchestrator dies before hearing of it."""
    body = order(f"held-{service}", W.ordinary_customers()[0].customer_id,
                 [line(W.stocked_skus(40)[0].sku)])  # fmt: skip
    fake = orch.fakes[service]
    rule = {
        "id": "hold-it",
        "match": {"method": "POST", "path": path, "order_id": body["order_id"], "nth": [1]},
        "phase": "after_commit",
        "action": {"kind": "hold"},
        "times": 1,
    }
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        http.put(f"{fake.url}/_fracas/faults", json=[rule]).raise_for_status()
        orch.submit(body)
        held = wait_until(
            lambda: http.get(f"{fake.url}/_fracas/held", params={"wait": 1}).json()["held"],
            15.0,
            what="request held after commit",
        )
        orch.process.kill()
        http.post(f"{fake.url}/_fracas/held/{held[0]['id']}/release").raise_for_status()
    orch.start()
    assert orch.wait_status(body["order_id"], TERMINAL)["status"] == "completed"
    assert_consistent(judge(orch, [body]))
    assert any(e["outcome"] == "resumed" for e in orch.events(body["order_id"]))


def _all_ended_consistent(orch: Orchestrator, orders: list[dict[str, Any]]) -> None:
    """Every order ended (whatever still waits for a person times out: 48 h on the test
    clock), most completed, and the ledgers consistent."""

    def only_reviews_left() -> bool:
        now = orch.statuses()
        return all(s in TERMINAL or s == "awaiting_review" for s in now.values())

    wait_until(only_reviews_left, 120.0, interval=0.1, what="all but reviews settled")
    orch.advance(49 * 3600)
    statuses = orch.wait_terminal([o["order_id"] for o in orders], timeout=60.0)
    assert len(statuses) == len(orders)
    assert all(s in ("completed", "failed") for s in statuses.values()), {
        k: v for k, v in statuses.items() if v not in ("completed", "failed")
    }
    assert sum(s == "completed" for s in statuses.values()) > len(orders) // 2
    assert_consistent(judge(orch, orders))


def _slow_every_call(orch: Orchestrator) -> None:
    """Every call slowed 40 ms (the effect committed, the answer late), so that each
    kill catches many orders between an effect and the orchestrator hearing of it."""
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        for name, fake in orch.fakes.items():
            rule = {
                "id": f"slow-{name}",
                "match": {"method": "*", "path": "/**"},
                "phase": "after_commit" if name in ("payment", "inventory", "shipping") else "before_commit",
                "action": {"kind": "delay", "ms": 40},
            }
            http.put(f"{fake.url}/_fracas/faults", json=[rule]).raise_for_status()


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["crm", "payment", "inventory", "shipping", "notify"])
def test_sigkill_a_fake_ten_times_with_200_orders_in_flight(orch: Orchestrator, victim: str) -> None:
    """Each fake in turn is killed with SIGKILL ten times while 200 orders run, and
    started again on its port and its ledger: no order is lost, none is left
    inconsistent (a fake's ledger is durable, its answers keyed, and the orchestrator
    retries a call that found nobody there)."""
    rng = random.Random(f"{SEED}:{victim}")
    orders = mixed_orders(200, rng)
    thresholds = sorted(rng.sample(range(5, 170), 10))  # kill moments, as progress
    fake = orch.fakes[victim]
    _slow_every_call(orch)
    submit_all(orch, orders)
    starts = fake.process.starts
    for i, threshold in enumerate(thresholds):
        wait_until(lambda t=threshold: terminal_count(orch) >= t, 90.0, interval=0.02,
                   what=f"{threshold} orders terminal before kill {i + 1} of {victim}")  # fmt: skip
        fake.restart(30.0)
    assert fake.process.starts == starts + 10
    _all_ended_consistent(orch, orders)
    # The kills landed on calls in flight: the orchestrator retried calls to the victim.
    metrics = orch.http.get("/metrics").text
    retried = [ln for ln in metrics.splitlines()
               if ln.startswith("fracas_retries_total") and f'service="{victim}"' in ln]  # fmt: skip
    assert sum(float(ln.rsplit(" ", 1)[1]) for ln in retried) >= 1, metrics
