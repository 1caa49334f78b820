"""The seeded world every fake starts from, as a pure function of the seed.

Scenarios and checkers need to *know* which customer is blocked or which SKU is low
on stock without asking a running fake, so the whole world is computed here, in
process, from the seed alone: ``build_world(7)`` in a test gives exactly the rows
``GET /_fracas/state`` of a fake started with ``--seed 7`` serves.

Edge cases are placed by role, not left to chance, so every seed has all of them:

- ``blocked_customers()``: status ``blocked`` (the saga must fail without effects);
- ``high_risk_customers()``: risk ``high`` (the saga waits for review);
- ``undeliverable_customers()``: active, but their country is not served (the shipment
  is refused, the saga must compensate); some of them are also high-risk;
- ``ordinary_customers()``: active, low risk, deliverable: the happy path;
- ``low_stock_skus()``: on hand 0..3 (at least one is 0);
- card tokens: ``DECLINE_TOKEN`` (any ``tok_decline...``) is declined, ``OK_TOKEN``
  (any other ``tok_...``) captures.

Faker supplies names and addresses; which customer plays which role, stock levels,
weights and rates come from ``random.Random(seed)``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DEFAULT_CUSTOMERS = 40
DEFAULT_SKUS = 30

OK_TOKEN = "tok_ok_4242"
DECLINE_TOKEN = "tok_decline_0002"
DECLINE_PREFIX = "tok_decline"
TOKEN_PREFIX = "tok_"

SERVED_COUNTRIES: tuple[str, ...] = (
    "DE", "FR", "NL", "BE", "AT", "IT", "ES", "GB", "US", "SE", "DK", "PL",
)  # fmt: skip
#: Countries the world knows (they have a rate row) but shipping does not serve.
KNOWN_UNSERVED_COUNTRIES: tuple[str, ...] = ("AQ", "BV", "HM")
#: A country with no rate row at all: quoted with the ``"*"`` rate, never served.
UNKNOWN_COUNTRY = "ZZ"
#: Every country the world does not know: quoted at this rate, never served.
WILDCARD_BASE_CENTS = 2500
WILDCARD_PER_KG_CENTS = 500

_BLOCKED = 4
_HIGH_RISK = 4
_UNDELIVERABLE = 4
_HIGH_RISK_UNDELIVERABLE = 2
_LOW_STOCK = 5


def is_declined(card_token: str) -> bool:
    return card_token.startswith(DECLINE_PREFIX)


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    postcode: str
    country: str

    def as_dict(self) -> dict[str, str]:
        return {
            "line1": self.line1,
            "city": self.city,
            "postcode": self.postcode,
            "country": self.country,
        }


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    email: str
    status: str  # "active" | "blocked"
    risk: str  # "low" | "high"
    address: Address

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "name": self.name,
            "email": self.email,
            "status": self.status,
            "risk": self.risk,
            "address": self.address.as_dict(),
        }


@dataclass(frozen=True)
class Sku:
    sku: str
    name: str
    on_hand: int
    weight_g: int
    #: A suggested unit price for scenario generators; no fake enforces prices.
    price_cents: int


@dataclass(frozen=True)
class Rate:
    country: str
    served: bool
    base_cents: int
    per_kg_cents: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "served": self.served,
            "base_cents": self.base_cents,
            "per_kg_cents": self.per_kg_cents,
        }


@dataclass(frozen=True)
class World:
    seed: int
    customers: tuple[Customer, ...]
    skus: tuple[Sku, ...]
    rates: tuple[Rate, ...]  # the known countries, then the "*" row

    # -- lookups ---------------------------------------------------------------------
    def customer(self, customer_id: str) -> Customer:
        for c in self.customers:
            if c.customer_id == customer_id:
                return c
        raise KeyError(customer_id)

    def sku(self, sku: str) -> Sku:
        for s in self.skus:
            if s.sku == sku:
                return s
        raise KeyError(sku)

    def rate(self, country: str) -> Rate:
        """The rate row for a country, or the ``"*"`` row when the world does not know it."""
        for r in self.rates:
            if r.country == country:
                return r
        return self.rates[-1]

    def served(self, country: str) -> bool:
        return self.rate(country).served

    # -- edge cases a scenario asks for ---------------------------------------------
    def blocked_customers(self) -> list[Customer]:
        return [c for c in self.customers if c.status == "blocked"]

    def high_risk_customers(self) -> list[Customer]:
        """Active customers with risk ``high`` (the saga waits for review)."""
        return [c for c in self.customers if c.status == "active" and c.risk == "high"]

    def undeliverable_customers(self) -> list[Customer]:
        """Active customers whose country shipping does not serve (any risk)."""
        return [
            c for c in self.customers if c.status == "active" and not self.served(c.address.country)
        ]

    def ordinary_customers(self) -> list[Customer]:
        """Active, low-risk, deliverable: the happy path."""
        return [
            c
            for c in self.customers
            if c.status == "active" and c.risk == "low" and self.served(c.address.country)
        ]

    def low_stock_skus(self, at_most: int = 3) -> list[Sku]:
        return [s for s in self.skus if s.on_hand <= at_most]

    def stocked_skus(self, at_least: int = 20) -> list[Sku]:
        return [s for s in self.skus if s.on_hand >= at_least]

    # -- the pure quote -------------------------------------------------------------
    def quote_cents(self, country: str, lines: Iterable[Mapping[str, Any]]) -> int:
        """What shipping quotes: ``base + per_kg * ceil(total_g / 1000)`` (contract §6)."""
        rate = self.rate(country)
        weights = {s.sku: s.weight_g for s in self.skus}
        total_g = sum(int(line["qty"]) * weights[str(line["sku"])] for line in lines)
        return rate.base_cents + rate.per_kg_cents * math.ceil(total_g / 1000)


@lru_cache(maxsize=1)
def _faker() -> Any:
    from faker import Faker  # imported lazily: it costs ~100 ms

    return Faker("en_US")


@lru_cache(maxsize=16)
def build_world(seed: int, customers: int = DEFAULT_CUSTOMERS, skus: int = DEFAULT_SKUS) -> World:
    """The world for `seed`; the same arguments always give the same world."""
    minimum = _BLOCKED + _HIGH_RISK + _UNDELIVERABLE + _HIGH_RISK_UNDELIVERABLE + 1
    if customers < minimum:
        raise ValueError(f"customers must be at least {minimum}, got {customers}")
    if skus < _LOW_STOCK + 1:
        raise ValueError(f"skus must be at least {_LOW_STOCK + 1}, got {skus}")
    rng = random.Random(f"fracas-world:{seed}")
    fake = _faker()
    fake.seed_instance(seed)

    roles = (
        ["blocked"] * _BLOCKED
        + ["high_risk"] * _HIGH_RISK
        + ["undeliverable"] * _UNDELIVERABLE
        + ["high_risk_undeliverable"] * _HIGH_RISK_UNDELIVERABLE
    )
    roles += ["ordinary"] * (customers - len(roles))
    rng.shuffle(roles)
    unserved_choices = (*KNOWN_UNSERVED_COUNTRIES, UNKNOWN_COUNTRY)

    people: list[Customer] = []
    for i, role in enumerate(roles, start=1):
        first, last = fake.first_name(), fake.last_name()
        cid = f"cus-{i:04d}"
        if "undeliverable" in role:
            country = rng.choice(unserved_choices)
        else:
            country = rng.choice(SERVED_COUNTRIES)
        address = Address(fake.street_address(), fake.city(), fake.postcode(), country)
        people.append(
            Customer(
                customer_id=cid,
                name=f"{first} {last}",
                email=f"{first}.{last}.{i}@example.com".lower(),
                status="blocked" if role == "blocked" else "active",
                risk="high" if role.startswith("high_risk") else "low",
                address=address,
            )
        )

    low = set(rng.sample(range(skus), _LOW_STOCK))
    zero = min(low)
    items: list[Sku] = []
    for i in range(skus):
        if i == zero:
            on_hand = 0
        elif i in low:
            on_hand = rng.randint(1, 3)
        else:
            on_hand = rng.randint(40, 200)
        items.append(
            Sku(
                sku=f"SKU-{i + 1:04d}",
                name=f"{fake.color_name()} {fake.word()}",
                on_hand=on_hand,
                weight_g=rng.randrange(100, 5001, 50),
                price_cents=rng.randrange(299, 20000, 100),
            )
        )

    rates = [
        Rate(c, True, rng.randrange(300, 1501, 50), rng.randrange(50, 401, 10))
        for c in SERVED_COUNTRIES
    ]
    rates += [
        Rate(c, False, rng.randrange(300, 1501, 50), rng.randrange(50, 401, 10))
        for c in KNOWN_UNSERVED_COUNTRIES
    ]
    rates.append(Rate("*", False, WILDCARD_BASE_CENTS, WILDCARD_PER_KG_CENTS))
    return World(seed=seed, customers=tuple(people), skus=tuple(items), rates=tuple(rates))
