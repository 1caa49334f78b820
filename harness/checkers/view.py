"""An indexed, read-only view of a snapshot, built once so each rule is a single pass.

Every index is a ``cached_property``: a rule pays for what it uses, and an index is built at
most once per check however many rules read it. Rules must go through these indexes rather
than scan tables per order; that is what keeps a full check linear in the number of orders.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from fracas.fakes import contract
from fracas.harness.model.history import FaultWindow
from fracas.harness.model.snapshot import Snapshot

JSON = dict[str, Any]
BlockedNotice = Literal["required", "optional", "forbidden"]
TERMINAL = frozenset({"completed", "failed", "needs_attention"})
STATUSES = frozenset({"pending", "running", "awaiting_review"}) | TERMINAL


@dataclass(frozen=True)
class CheckConfig:
    """Knobs a scenario may turn. Defaults are the strict reading of contract §5.

    ``blocked_customer_notice``: must a blocked customer's failed order carry one
    ``order_failed`` message? See docs/checkers.md for why "required" is the default.
    ``rules``: run only these rule names (None: all registered rules).
    """

    needs_attention_tolerance: int = 0
    blocked_customer_notice: BlockedNotice = "required"
    rules: frozenset[str] | None = None
    skip_rules: frozenset[str] = frozenset()


def _group(rows: Iterable[JSON], key: str) -> dict[Any, list[JSON]]:
    out: dict[Any, list[JSON]] = defaultdict(list)
    for row in rows:
        out[row.get(key)].append(row)
    return out


def _by(rows: Iterable[JSON], key: str) -> dict[Any, JSON]:
    return {row.get(key): row for row in rows}


def line_counts(lines: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Lines as ``{sku: total qty}``: two lines of one SKU equal one line of their sum."""
    c: dict[str, int] = {}
    for line in lines:
        sku = str(line.get("sku"))
        c[sku] = c.get(sku, 0) + int(line.get("qty") or 0)
    return c


def lines_total(order: Mapping[str, Any]) -> int:
    return sum(
        int(x.get("qty") or 0) * int(x.get("unit_price_cents") or 0)
        for x in order.get("lines") or []
    )


def fmt_money(cents: int | None, currency: str | None = None) -> str:
    if cents is None:
        return "?"
    sign = "-" if cents < 0 else ""
    s = f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
    return f"{s} {currency}" if currency else s


class View:
    """The snapshot seen through indexes. Only reads; never mutates the snapshot."""

    def __init__(self, snapshot: Snapshot, config: CheckConfig | None = None) -> None:
        self.snapshot = snapshot
        self.config = config or CheckConfig()
        self.orders = snapshot.orders
        self.reported = snapshot.reported
        self._by_order: dict[tuple[str, str], dict[Any, list[JSON]]] = {}

    # -- raw tables ----------------------------------------------------------------------

    @cached_property
    def payments(self) -> list[JSON]:
        return self.snapshot.table("payment", "payments")

    @cached_property
    def refunds(self) -> list[JSON]:
        return self.snapshot.table("payment", "refunds")

    @cached_property
    def reservations(self) -> list[JSON]:
        return self.snapshot.table("inventory", "reservations")

    @cached_property
    def shipments(self) -> list[JSON]:
        return self.snapshot.table("shipping", "shipments")

    @cached_property
    def messages(self) -> list[JSON]:
        return self.snapshot.table("notify", "messages")

    @cached_property
    def stock(self) -> list[JSON]:
        return self.snapshot.table("inventory", "stock")

    # -- indexes -------------------------------------------------------------------------

    @cached_property
    def payments_by_order(self) -> dict[Any, list[JSON]]:
        return self.effects_by_order("payment", "payments")

    @cached_property
    def refunds_by_order(self) -> dict[Any, list[JSON]]:
        return self.effects_by_order("payment", "refunds")

    @cached_property
    def reservations_by_order(self) -> dict[Any, list[JSON]]:
        return self.effects_by_order("inventory", "reservations")

    @cached_property
    def shipments_by_order(self) -> dict[Any, list[JSON]]:
        return self.effects_by_order("shipping", "shipments")

    @cached_property
    def messages_by_order(self) -> dict[Any, list[JSON]]:
        return self.effects_by_order("notify", "messages")

    @cached_property
    def payments_by_id(self) -> dict[Any, JSON]:
        return _by(self.payments, "payment_id")

    @cached_property
    def reservations_by_id(self) -> dict[Any, JSON]:
        return _by(self.reservations, "reservation_id")

    @cached_property
    def shipments_by_id(self) -> dict[Any, JSON]:
        return _by(self.shipments, "shipment_id")

    @cached_property
    def messages_by_id(self) -> dict[Any, JSON]:
        return _by(self.messages, "message_id")

    @cached_property
    def customers(self) -> dict[Any, JSON]:
        return _by(self.snapshot.table("crm", "customers"), "customer_id")

    @cached_property
    def rates(self) -> dict[Any, JSON]:
        return _by(self.snapshot.table("shipping", "rates"), "country")

    @cached_property
    def weights(self) -> dict[Any, int]:
        return {
            r.get("sku"): int(r.get("weight_g") or 0)
            for r in self.snapshot.table("shipping", "weights")
        }

    # -- journals (only built when a witness or the summary needs them) ---------------------

    @cached_property
    def journal(self) -> list[JSON]:
        """All services' entries, each tagged with its service, in time order."""
        out: list[JSON] = []
        for service, entries in self.snapshot.journals.items():
            for e in entries:
                if e.get("service") is None:
                    e = {**e, "service": service}
                out.append(e)
        out.sort(key=lambda e: (e.get("t") or 0.0, e.get("service") or "", e.get("seq") or 0))
        return out

    @cached_property
    def journal_by_order(self) -> dict[Any, list[JSON]]:
        return _group(self.journal, "order_id")

    # -- history -------------------------------------------------------------------------

    @cached_property
    def broker_by_order(self) -> dict[Any, list[JSON]]:
        """A choreography's broker messages (harness/broker/tap.py) by the order their
        correlation id names, in time order; empty for a run without a broker."""
        h = self.snapshot.history
        if h is None or not h.messages:
            return {}
        return _group(sorted(h.messages, key=lambda m: float(m.get("t") or 0.0)), "order_id")

    @cached_property
    def faults(self) -> list[FaultWindow]:
        h = self.snapshot.history
        return h.faults() if h is not None else []

    @cached_property
    def _heal_prefix(self) -> tuple[list[float], list[float], list[bool]]:
        """Faults by application time with running max heal time and "any unhealed yet"."""
        ws = sorted(self.faults, key=lambda f: f.applied_t)
        applied, max_heal, unhealed = [], [], []
        m, u = float("-inf"), False
        for f in ws:
            applied.append(f.applied_t)
            if f.healed_t is None:
                u = True
            else:
                m = max(m, f.healed_t)
            max_heal.append(m)
            unhealed.append(u)
        return applied, max_heal, unhealed

    def last_heal(self, start: float, end: float) -> tuple[float | None, bool]:
        """Latest heal among faults overlapping [start, end], and whether one never healed.

        Any fault applied by ``end`` either healed before ``start`` (then its heal time is
        below ``start`` and harmless once the caller takes ``max(start, ...)``) or overlaps;
        so a prefix maximum over application time answers in O(log faults)."""
        applied, max_heal, unhealed = self._heal_prefix
        i = bisect_right(applied, end)
        if i == 0:
            return None, False
        m = max_heal[i - 1]
        return (None if m == float("-inf") or m < start else m), unhealed[i - 1]

    @cached_property
    def t0(self) -> float:
        h = self.snapshot.history
        if h is not None:
            return h.t0
        ts = [e["t"] for e in self.journal[:1] if e.get("t") is not None]
        return ts[0] if ts else 0.0

    @cached_property
    def submitted_t(self) -> dict[str, float]:
        """``Settle.submitted_t`` when the caller gave it, else derived from the history."""
        given, h = self.snapshot.settle.submitted_t, self.snapshot.history
        if given or h is None:
            return dict(given)
        return h.submit_times()

    @cached_property
    def terminal_t(self) -> dict[str, float]:
        """``Settle.terminal_t`` when the caller gave it, else derived from the history."""
        given, h = self.snapshot.settle.terminal_t, self.snapshot.history
        if given or h is None:
            return dict(given)
        return h.terminal_times()

    @cached_property
    def rejected(self) -> set[str]:
        h = self.snapshot.history
        return h.rejected_orders() if h is not None else set()

    @cached_property
    def last_heal_t(self) -> float | None:
        if self.snapshot.settle.last_heal_t is not None:
            return self.snapshot.settle.last_heal_t
        h = self.snapshot.history
        return h.last_heal_t() if h is not None else None

    # -- domain helpers ------------------------------------------------------------------

    def status(self, order_id: str) -> str | None:
        rep = self.reported.get(order_id)
        return None if rep is None else rep.get("status")

    def intent_of(self, order_id: str) -> contract.Intent | None:
        """What the workload meant the order to be, when the snapshot says (for wording a
        witness: no rule's verdict may depend on it)."""
        name = self.snapshot.intents.get(order_id)
        return next((i for i in contract.INTENTS if i.name == name), None)

    def customer_of(self, order_id: str) -> JSON | None:
        order = self.orders.get(order_id) or {}
        return self.customers.get(order.get("customer_id"))

    def quote(self, order_id: str) -> int | None:
        """Recompute the shipping quote (§6); None when it cannot be (no customer, unknown SKU)."""
        customer = self.customer_of(order_id)
        if customer is None:
            return None
        country = (customer.get("address") or {}).get("country")
        rate = self.rates.get(country) or self.rates.get("*")
        if rate is None:
            return None
        total_g = 0
        for line in (self.orders.get(order_id) or {}).get("lines") or []:
            w = self.weights.get(line.get("sku"))
            if w is None:
                return None
            total_g += int(line.get("qty") or 0) * w
        return int(rate.get("base_cents") or 0) + int(rate.get("per_kg_cents") or 0) * math.ceil(
            total_g / 1000
        )

    def expected_charge(self, order_id: str) -> int | None:
        q = self.quote(order_id)
        return None if q is None else lines_total(self.orders.get(order_id) or {}) + q

    def effect_rows(self, service: str, table: str) -> list[JSON]:
        """One effect table's rows (any table the contract lists, a registered one too)."""
        return self.snapshot.table(service, table)

    def effects_by_order(self, service: str, table: str) -> dict[Any, list[JSON]]:
        key = (service, table)
        if key not in self._by_order:
            self._by_order[key] = _group(self.effect_rows(service, table), "order_id")
        return self._by_order[key]

    def ledger_rows(self, order_id: str) -> list[JSON]:
        """Every effect row of one order, tagged with where it lives."""
        out: list[JSON] = []
        for service, t in contract.effect_tables():
            index = self.effects_by_order(service, t.table)
            out.extend(tag(service, t.table, r) for r in index.get(order_id, ()))
        return out


def tag(service: str, table: str, row: Mapping[str, Any]) -> JSON:
    """A ledger row as a witness carries it: its place plus its fields."""
    return {"service": service, "table": table, "row": dict(row)}
