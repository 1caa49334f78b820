"""Orders to submit, built from the seeded world, each with the intent it was made for.

The intent ("declined", "out_of_stock", ...) is only a label for reports and
strategies: the checkers never read it, they judge the ledgers. An order meant to be
happy can still end failed (another order took the stock) and that is consistent.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fracas.fakes import contract
from fracas.fakes.world import DECLINE_TOKEN, OK_TOKEN, World, build_world

#: The intents' names, in the contract's order (``fracas.fakes.contract.INTENTS`` says
#: what each reaches and needs).
INTENTS: tuple[str, ...] = tuple(i.name for i in contract.INTENTS)
REVIEWS = {"review_approve": "approve", "review_reject": "reject", "review_timeout": "timeout"}
#: The step whose answer refuses each intent meant to fail (``Intent.refused_at``).
REFUSED_AT: dict[str, str | None] = {i.name: i.refused_at for i in contract.INTENTS}


def allowed_intents(
    capabilities: frozenset[str] | set[str], intents: Sequence[str] = INTENTS
) -> list[str]:
    """The intents this orchestrator can carry out (the contract's ``needs``): no review
    orders without ``review``, no review timeouts without a clock to advance."""
    needs = {i.name: i.needs for i in contract.INTENTS}
    return [i for i in intents if needs.get(i, frozenset()) <= set(capabilities)]


class WorkloadError(ValueError):
    """An order plan that cannot be built or parsed; names the field."""


@dataclass(frozen=True)
class OrderPlan:
    """One order and what the workload does when a person is asked to review it."""

    order: dict[str, Any]
    intent: str = "ok"

    @property
    def order_id(self) -> str:
        return str(self.order["order_id"])

    @property
    def review(self) -> str | None:
        """ "approve", "reject", "timeout" (let the review time out), or None."""
        return REVIEWS.get(self.intent)

    def to_json(self) -> dict[str, Any]:
        return {"order": self.order, "intent": self.intent}

    @staticmethod
    def from_json(data: Any, where: str = "order") -> OrderPlan:
        if not isinstance(data, dict) or not isinstance(data.get("order"), dict):
            raise WorkloadError(f'{where}: expected {{"order": {{...}}, "intent": ...}}')
        intent = data.get("intent", "ok")
        if intent not in INTENTS:
            raise WorkloadError(
                f"{where}.intent: expected one of {', '.join(INTENTS)}, got {intent!r}"
            )
        order = data["order"]
        for key, kind in (
            ("order_id", str),
            ("customer_id", str),
            ("currency", str),
            ("card_token", str),
            ("lines", list),
        ):
            if not isinstance(order.get(key), kind):
                raise WorkloadError(f"{where}.order.{key}: expected a {kind.__name__}")
        for i, line in enumerate(order["lines"]):
            if not (
                isinstance(line, dict)
                and isinstance(line.get("sku"), str)
                and isinstance(line.get("qty"), int)
                and isinstance(line.get("unit_price_cents"), int)
            ):
                raise WorkloadError(
                    f'{where}.order.lines[{i}]: expected {{"sku": str, "qty": int, '
                    '"unit_price_cents": int}}'
                )
        return OrderPlan(order, intent)


def make_order(world: World, intent: str, index: int, rng: random.Random) -> OrderPlan:
    """An order for `intent`, deterministic in (world seed, index, rng state)."""
    if intent not in INTENTS:
        raise WorkloadError(f"intent: expected one of {', '.join(INTENTS)}, got {intent!r}")
    pick = {
        "blocked": world.blocked_customers,
        "undeliverable": world.undeliverable_customers,
        "review_approve": world.high_risk_customers,
        "review_reject": world.high_risk_customers,
        "review_timeout": world.high_risk_customers,
    }.get(intent, world.ordinary_customers)
    if intent.startswith("review"):
        pool = [c for c in pick() if world.served(c.address.country)]
    else:
        pool = pick()
    customer_id = "cus-9999" if intent == "unknown_customer" else rng.choice(pool).customer_id
    stocked = world.stocked_skus()
    if intent == "out_of_stock":
        sku = rng.choice(world.low_stock_skus())
        lines = [
            {
                "sku": sku.sku,
                "qty": sku.on_hand + 1 + rng.randrange(3),
                "unit_price_cents": sku.price_cents,
            }
        ]
    else:
        chosen = rng.sample(stocked, k=min(len(stocked), rng.randint(1, 3)))
        lines = [
            {"sku": s.sku, "qty": rng.randint(1, 2), "unit_price_cents": s.price_cents}
            for s in sorted(chosen, key=lambda s: s.sku)
        ]
    order = {
        "order_id": f"ord-{index:04d}",
        "customer_id": customer_id,
        "currency": "EUR",
        "card_token": DECLINE_TOKEN if intent == "declined" else OK_TOKEN,
        "lines": lines,
    }
    return OrderPlan(order, intent)


def orders(
    count: int, seed: int = 0, intents: Sequence[str] = ("ok",), world: World | None = None
) -> list[OrderPlan]:
    """`count` orders cycling through `intents`, the same for the same arguments."""
    if count < 0:
        raise WorkloadError(f"count: expected 0 or more, got {count}")
    world = world or build_world(seed)
    rng = random.Random(f"fracas-orders:{seed}")
    return [make_order(world, intents[i % len(intents)], i + 1, rng) for i in range(count)]


def mixed(
    count: int, seed: int = 0, world: World | None = None,
    capabilities: frozenset[str] | None = None,
) -> list[OrderPlan]:
    """Mostly happy orders with every edge case in the mix (each one ``capabilities``
    allow, when given: a system without reviews gets no review orders)."""
    mix: tuple[str, ...] = (
        "ok",
        "ok",
        "ok",
        "blocked",
        "ok",
        "declined",
        "ok",
        "out_of_stock",
        "ok",
        "undeliverable",
        "ok",
        "review_approve",
        "ok",
        "review_reject",
        "unknown_customer",
    )
    if capabilities is not None:
        mix = tuple(allowed_intents(capabilities, mix))
    return orders(count, seed, mix, world)
