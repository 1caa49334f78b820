"""Driving a real orchestrator process and judging the fakes' ledgers afterwards."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import httpx

from fracas.fakes.world import DECLINE_TOKEN, OK_TOKEN, World, build_world
from fracas.harness.checkers import CheckConfig, CheckResult, Snapshot, check
from fracas.harness.kit.procs import ManagedProcess
from fracas.harness.kit.waiting import wait_until
from fracas.harness.run.services import FakeProcess

SEED = 7
TERMINAL = {"completed", "failed", "needs_attention"}


def the_world() -> World:
    return build_world(SEED)


def order(
    order_id: str,
    customer_id: str,
    lines: list[dict[str, Any]],
    card_token: str = OK_TOKEN,
    currency: str = "EUR",
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "currency": currency,
        "card_token": card_token,
        "lines": lines,
    }


def line(sku: str, qty: int = 1, price: int = 1999) -> dict[str, Any]:
    return {"sku": sku, "qty": qty, "unit_price_cents": price}


def happy_orders(n: int, prefix: str, seed: int = 1) -> list[dict[str, Any]]:
    """Orders that complete in the seeded world: ordinary customers, well-stocked SKUs."""
    w = the_world()
    rng = random.Random(seed)
    customers = [c.customer_id for c in w.ordinary_customers()]
    skus = [s.sku for s in w.stocked_skus(40)]
    return [
        order(f"{prefix}-{i:04d}", rng.choice(customers), [line(rng.choice(skus), 1)])
        for i in range(n)
    ]


class Orchestrator:
    def __init__(self, process: ManagedProcess, url: str, fakes: dict[str, FakeProcess]) -> None:
        self.process = process
        self.url = url
        self.fakes = fakes
        self.http = httpx.Client(base_url=url, timeout=10.0, trust_env=False)

    # -- process -----------------------------------------------------------------------
    def healthy(self) -> bool:
        try:
            return self.http.get("/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> None:
        self.process.start()
        self.process.wait_healthy(self.healthy, timeout=30.0)

    def crash_restart(self) -> None:
        self.process.kill()
        self.start()

    def close(self) -> None:
        self.http.close()
        self.process.stop()

    # -- API -----------------------------------------------------------------------------
    def submit(self, body: Any) -> httpx.Response:
        return self.http.post("/orders", json=body)

    def get(self, order_id: str) -> dict[str, Any]:
        r = self.http.get(f"/orders/{order_id}")
        r.raise_for_status()
        return dict(r.json())

    def review(self, order_id: str, decision: str) -> httpx.Response:
        return self.http.post(f"/orders/{order_id}/review", json={"decision": decision})

    def events(self, order_id: str) -> list[dict[str, Any]]:
        r = self.http.get(f"/orders/{order_id}/events")
        r.raise_for_status()
        return list(r.json()["events"])

    def advance(self, seconds: float) -> httpx.Response:
        return self.http.post("/_admin/clock/advance", json={"seconds": seconds})

    def statuses(self) -> dict[str, str]:
        r = self.http.get("/orders", params={"limit": 100000})
        r.raise_for_status()
        return {o["order_id"]: o["status"] for o in r.json()["orders"]}

    def wait_status(
        self, order_id: str, statuses: Iterable[str], timeout: float = 30.0
    ) -> dict[str, Any]:
        wanted = set(statuses)

        def reached() -> dict[str, Any] | None:
            view = self.get(order_id)
            return view if view["status"] in wanted else None

        return wait_until(reached, timeout, interval=0.02, what=f"{order_id} in {wanted}")

    def wait_terminal(self, order_ids: Iterable[str], timeout: float = 60.0) -> dict[str, str]:
        ids = set(order_ids)

        def done() -> dict[str, str] | None:
            now = self.statuses()
            return now if all(now.get(i) in TERMINAL for i in ids) else None

        return wait_until(done, timeout, interval=0.1, what=f"{len(ids)} orders terminal")


# -- the fakes' truth ----------------------------------------------------------------------
def ledgers(fakes: dict[str, FakeProcess]) -> dict[str, dict[str, Any]]:
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        return {n: http.get(f"{f.url}/_fracas/state").json() for n, f in fakes.items()}


def journals(fakes: dict[str, FakeProcess]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        for name, fake in fakes.items():
            entries: list[dict[str, Any]] = []
            since = 0
            while True:
                page = http.get(f"{fake.url}/_fracas/journal", params={"since": since}).json()
                entries.extend(page["entries"])
                if not page["entries"] or page["next"] == since:
                    break
                since = page["next"]
            out[name] = entries
    return out


def judge(
    orch: Orchestrator,
    orders: Iterable[dict[str, Any]],
    config: CheckConfig | None = None,
) -> CheckResult:
    """Contract §5 over the ledgers, by fracas.harness.checkers (the project's one checker)."""
    submitted = {o["order_id"]: o for o in orders}
    reported: dict[str, Any] = {}
    for oid in submitted:
        r = orch.http.get(f"/orders/{oid}")
        reported[oid] = r.json() if r.status_code == 200 else None
    snap = Snapshot(
        ledgers=ledgers(orch.fakes),
        orders=submitted,
        reported=reported,
        journals=journals(orch.fakes),
    )
    return check(snap, config)


def assert_consistent(result: CheckResult) -> None:
    assert result.rules and result.orders, "the checker judged nothing"
    if not result.ok:
        lines = [f"{v.rule} {v.order_id}: {v.message}" for v in result.violations[:20]]
        lines += [f"rule {k} crashed: {e}" for k, e in result.errors.items()]
        raise AssertionError(
            f"{len(result.violations)} violations:\n" + "\n".join(lines)
        )


def rows(ledger: dict[str, Any], table: str, order_id: str) -> list[dict[str, Any]]:
    return [r for r in ledger["tables"][table] if r.get("order_id") == order_id]


__all__ = ["DECLINE_TOKEN", "OK_TOKEN"]
