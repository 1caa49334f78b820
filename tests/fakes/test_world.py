"""The seeded world: a pure function of the seed, served byte for byte by every fake."""

from __future__ import annotations

from pathlib import Path

import pytest

from fracas.fakes.world import (
    DECLINE_TOKEN,
    OK_TOKEN,
    build_world,
    is_declined,
)
from tests.fakes.support import SEED, Fake, start


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_every_seed_has_every_edge_case(seed: int) -> None:
    world = build_world(seed)
    assert len(world.blocked_customers()) >= 1
    assert len(world.high_risk_customers()) >= 1
    assert len(world.undeliverable_customers()) >= 1
    assert len(world.ordinary_customers()) >= 10
    assert any(s.on_hand == 0 for s in world.low_stock_skus())
    assert len(world.stocked_skus()) >= 10
    assert any(c.risk == "high" and not world.served(c.address.country) for c in world.customers)
    ids = [c.customer_id for c in world.customers]
    assert ids == [f"cus-{i:04d}" for i in range(1, len(ids) + 1)]


def test_world_is_a_pure_function_of_the_seed() -> None:
    build_world.cache_clear()
    a = build_world(3)
    build_world.cache_clear()
    assert build_world(3) == a
    assert build_world(4) != a


def test_tokens() -> None:
    assert is_declined(DECLINE_TOKEN) and is_declined("tok_decline_anything")
    assert not is_declined(OK_TOKEN)


def test_quote_uses_the_wildcard_rate_for_unknown_countries() -> None:
    world = build_world(SEED)
    assert world.rate("ZZ").country == "*"
    assert not world.served("ZZ") and not world.served("AQ") and world.served("DE")


def test_state_is_byte_identical_for_a_seed(fakes: dict[str, Fake], tmp_path: Path) -> None:
    """A running fake reset to seed 11 and a fresh process started with seed 11 agree."""
    for name in ("crm", "inventory", "shipping"):
        fakes[name].reset(11)
    others = {
        name: start(name, tmp_path / name, seed=11) for name in ("crm", "inventory", "shipping")
    }
    try:
        for name, other in others.items():
            mine = fakes[name].http.get("/_fracas/state").content
            assert other.http.get("/_fracas/state").content == mine, name
    finally:
        for other in others.values():
            other.close()
            other.process.stop()
        for name in others:
            fakes[name].reset()


def test_state_matches_the_world(crm: Fake, inventory: Fake, shipping: Fake) -> None:
    world = build_world(SEED)
    assert crm.state() == {
        "service": "crm",
        "seed": SEED,
        "tables": {"customers": [c.as_dict() for c in world.customers]},
    }
    stock = inventory.table("stock")
    assert [(s["sku"], s["on_hand"], s["held"], s["initial_on_hand"]) for s in stock] == [
        (s.sku, s.on_hand, 0, s.on_hand) for s in world.skus
    ]
    assert shipping.table("rates") == [r.as_dict() for r in world.rates]
    assert shipping.table("rates")[-1]["country"] == "*"
    assert shipping.table("weights") == [{"sku": s.sku, "weight_g": s.weight_g} for s in world.skus]
