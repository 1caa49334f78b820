"""A synthetic world for checker tests, benchmarks and docs: ledgers built by hand.

Each effect method writes the §6 ledger row *and* the journal line a fake would have
written for it, so a test states a story ("captured, answer lost, retried with a new key")
and gets a snapshot exactly shaped like a real run's. Nothing here talks to a process.

The default saga paths (``complete``, ``fail_*``) produce consistent end states; tests
break them by hand to make violations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from fracas.fakes import contract
from fracas.harness.model.history import History
from fracas.harness.model.snapshot import Settle, Snapshot

JSON = dict[str, Any]
T0 = 1_764_133_200.0

DEFAULT_RATES: tuple[JSON, ...] = (
    {"country": "DE", "served": True, "base_cents": 499, "per_kg_cents": 120},
    {"country": "FR", "served": True, "base_cents": 650, "per_kg_cents": 150},
    {"country": "NL", "served": True, "base_cents": 550, "per_kg_cents": 100},
    {"country": "*", "served": False, "base_cents": 1999, "per_kg_cents": 400},
)


class SynthWorld:
    """Ledgers, journals and history of one imaginary run; time advances 10 ms per event.

    Customers ``cus-0001``...: every 4th lives in the US (quoted, never served), every 7th
    is blocked, every 5th is high-risk; ``cus-9999`` does not exist. SKUs ``SKU-0001``...
    all start with ``stock`` units.
    """

    def __init__(
        self,
        *,
        customers: int = 8,
        skus: int = 10,
        stock: int = 1000,
        t0: float = T0,
        step: float = 0.01,
        journal: bool = True,
    ) -> None:
        self.t = t0
        self.step = step
        self.journal_on = journal
        self.history = History(t0=t0, clock=self._tick)
        self.customers: list[JSON] = []
        for i in range(1, customers + 1):
            country = "US" if i % 4 == 0 else ("DE", "FR", "NL")[i % 3]  # US is not served
            self.customers.append(
                {
                    "customer_id": f"cus-{i:04d}",
                    "name": f"Customer {i}",
                    "email": f"c{i}@example.org",
                    "status": "blocked" if i % 7 == 0 else "active",
                    "risk": "high" if i % 5 == 0 else "low",
                    "address": {
                        "line1": f"{i} Main St",
                        "city": "Town",
                        "postcode": f"{10000 + i}",
                        "country": country,
                    },
                }
            )
        self.stock: dict[str, JSON] = {
            f"SKU-{i:04d}": {
                "sku": f"SKU-{i:04d}",
                "name": f"Thing {i}",
                "on_hand": stock,
                "held": 0,
                "initial_on_hand": stock,
            }
            for i in range(1, skus + 1)
        }
        self.weights: list[JSON] = [
            {"sku": s, "weight_g": 150 + 137 * i} for i, s in enumerate(self.stock)
        ]
        self.rates: list[JSON] = [dict(r) for r in DEFAULT_RATES]
        self.payments: list[JSON] = []
        self.refunds: list[JSON] = []
        self.reservations: list[JSON] = []
        self.shipments: list[JSON] = []
        self.messages: list[JSON] = []
        #: one journal per service the contract knows (a registered one too)
        self.journals: dict[str, list[JSON]] = {s: [] for s in contract.service_names()}
        #: tables of services beyond the built-in five: {service: {table: rows}}
        self.extra_tables: dict[str, dict[str, list[JSON]]] = {}
        self.orders: dict[str, JSON] = {}
        self.reported: dict[str, JSON | None] = {}
        self._seq = 0
        self._ids: dict[str, int] = {}
        self._by_customer: dict[str, JSON] = {}
        self._weights: dict[str, int] = {}

    # -- plumbing ------------------------------------------------------------------------

    def _tick(self) -> float:
        self.t += self.step
        return self.t

    def _id(self, prefix: str) -> str:
        n = self._ids.get(prefix, 0) + 1
        self._ids[prefix] = n
        return f"{prefix}-{n:04d}"

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def customer_index(self) -> dict[str, JSON]:
        if len(self._by_customer) != len(self.customers):
            self._by_customer = {c["customer_id"]: c for c in self.customers}
        return self._by_customer

    def customer(self, customer_id: str) -> JSON:
        return self.customer_index()[customer_id]

    def log(
        self,
        service: str,
        method: str,
        path: str,
        status: int,
        order_id: str | None,
        *,
        key: str | None = None,
        effect_id: str | None = None,
        fault: JSON | None = None,
        replayed: bool = False,
        t: float | None = None,
        query: str = "",
    ) -> JSON:
        """One journal line, as a fake records it."""
        entry = {
            "seq": len(self.journals.setdefault(service, [])) + 1,
            "t": self._tick() if t is None else t,
            "service": service,
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "order_id": order_id,
            "idempotency_key": key,
            "correlation_id": order_id,
            "replayed": replayed,
            "effect_id": effect_id,
            "duration_ms": 1.0,
            "fault": fault,
        }
        if self.journal_on:
            self.journals[service].append(entry)
        return entry

    def effect(
        self, service: str, table: str, row: JSON, path: str, *, key: str | None = None
    ) -> JSON:
        """An effect row of any service (one added to the contract at run time) plus the
        journal line its POST left."""
        row = {"seq": self._next_seq(), "idempotency_key": key, **row}
        self.extra_tables.setdefault(service, {}).setdefault(table, []).append(row)
        self.log(service, "POST", path, 201, row.get("order_id"), key=key)
        return row

    # -- orders --------------------------------------------------------------------------

    def order(
        self,
        order_id: str,
        customer_id: str = "cus-0001",
        lines: Iterable[tuple[str, int, int]] | None = None,
        *,
        currency: str = "EUR",
        card_token: str = "tok_ok_4242",
    ) -> JSON:
        """Submit an order (history: submit invoked and acknowledged)."""
        ls = [
            {"sku": s, "qty": q, "unit_price_cents": p}
            for s, q, p in (lines or [("SKU-0001", 2, 1999)])
        ]
        order = {
            "order_id": order_id,
            "customer_id": customer_id,
            "currency": currency,
            "card_token": card_token,
            "lines": ls,
        }
        self.orders[order_id] = order
        self.history.invoke("submit", order_id, order=order).ok(status="pending")
        return order

    def report(self, order_id: str, status: str | None, **extra: Any) -> None:
        """What GET /orders/{id} answers at the end (None: 404); also a status read in history."""
        op = self.history.invoke("status", order_id)
        if status is None:
            self.reported[order_id] = None
            op.fail(http_status=404)
        else:
            self.reported[order_id] = {"order_id": order_id, "status": status, **extra}
            op.ok(status=status, **extra)

    def quote(self, order_id: str) -> int:
        order = self.orders[order_id]
        country = self.customer(order["customer_id"])["address"]["country"]
        rates = {r["country"]: r for r in self.rates}
        rate = rates.get(country) or rates["*"]
        if len(self._weights) != len(self.weights):
            self._weights = {r["sku"]: r["weight_g"] for r in self.weights}
        w = self._weights
        total_g = sum(line["qty"] * w[line["sku"]] for line in order["lines"])
        self.log("shipping", "POST", "/quotes", 200, order_id)
        return int(rate["base_cents"] + rate["per_kg_cents"] * math.ceil(total_g / 1000))

    def total(self, order_id: str) -> int:
        return sum(
            line["qty"] * line["unit_price_cents"] for line in self.orders[order_id]["lines"]
        )

    def lookup(self, order_id: str) -> None:
        cid = self.orders[order_id]["customer_id"]
        self.log(
            "crm",
            "GET",
            f"/customers/{cid}",
            200 if cid in self.customer_index() else 404,
            order_id,
        )

    # -- effects (ledger row + journal line) ---------------------------------------------

    def capture(
        self,
        order_id: str,
        amount: int | None = None,
        *,
        key: str | None = "",
        fault: JSON | None = None,
    ) -> JSON:
        key = f"{order_id}:capture" if key == "" else key
        amount = self.total(order_id) + self.quote(order_id) if amount is None else amount
        pid = self._id("pay")
        row = {
            "seq": self._next_seq(),
            "payment_id": pid,
            "order_id": order_id,
            "amount_cents": amount,
            "currency": self.orders[order_id]["currency"],
            "card_token": self.orders[order_id]["card_token"],
            "status": "captured",
            "refunded_cents": 0,
            "idempotency_key": key,
            "correlation_id": order_id,
            "created_at": self._tick(),
        }
        self.payments.append(row)
        self.log("payment", "POST", "/payments", 201, order_id, key=key, effect_id=pid, fault=fault)
        return row

    def replay(
        self, service: str, path: str, order_id: str, key: str, effect_id: str, status: int = 201
    ) -> JSON:
        """A retry the fake answered from its idempotency store: a journal line, no row."""
        return self.log(
            service, "POST", path, status, order_id, key=key, effect_id=effect_id, replayed=True
        )

    def refund(self, payment: JSON, amount: int | None = None, *, key: str | None = "") -> JSON:
        oid = payment["order_id"]
        key = f"{oid}:refund" if key == "" else key
        amount = payment["amount_cents"] - payment["refunded_cents"] if amount is None else amount
        rid = self._id("ref")
        payment["refunded_cents"] += amount
        row = {
            "seq": self._next_seq(),
            "refund_id": rid,
            "payment_id": payment["payment_id"],
            "order_id": oid,
            "amount_cents": amount,
            "idempotency_key": key,
            "correlation_id": oid,
            "created_at": self._tick(),
        }
        self.refunds.append(row)
        self.log(
            "payment",
            "POST",
            f"/payments/{payment['payment_id']}/refunds",
            201,
            oid,
            key=key,
            effect_id=rid,
        )
        return row

    def decline(self, order_id: str) -> None:
        self.log("payment", "POST", "/payments", 402, order_id, key=f"{order_id}:capture")

    def reserve(
        self, order_id: str, *, key: str | None = "", lines: list[JSON] | None = None
    ) -> JSON:
        key = f"{order_id}:reserve" if key == "" else key
        ls = (
            lines
            if lines is not None
            else [{"sku": x["sku"], "qty": x["qty"]} for x in self.orders[order_id]["lines"]]
        )
        for line in ls:
            s = self.stock[line["sku"]]
            s["on_hand"] -= line["qty"]
            s["held"] += line["qty"]
        rid = self._id("res")
        row = {
            "seq": self._next_seq(),
            "reservation_id": rid,
            "order_id": order_id,
            "lines": ls,
            "status": "held",
            "idempotency_key": key,
            "correlation_id": order_id,
            "created_at": self._tick(),
            "released_at": None,
        }
        self.reservations.append(row)
        self.log("inventory", "POST", "/reservations", 201, order_id, key=key, effect_id=rid)
        return row

    def out_of_stock(self, order_id: str) -> None:
        self.log("inventory", "POST", "/reservations", 409, order_id, key=f"{order_id}:reserve")

    def release(self, reservation: JSON, *, key: str | None = "") -> JSON:
        oid = reservation["order_id"]
        key = f"{oid}:release" if key == "" else key
        if reservation["status"] == "held":
            for line in reservation["lines"]:
                s = self.stock[line["sku"]]
                s["on_hand"] += line["qty"]
                s["held"] -= line["qty"]
            reservation["status"] = "released"
            reservation["released_at"] = self._tick()
        self.log(
            "inventory",
            "POST",
            f"/reservations/{reservation['reservation_id']}/release",
            200,
            oid,
            key=key,
            effect_id=reservation["reservation_id"],
        )
        return reservation

    def ship(self, order_id: str, reservation: JSON, *, key: str | None = "") -> JSON:
        key = f"{order_id}:ship" if key == "" else key
        sid = self._id("shp")
        row = {
            "seq": self._next_seq(),
            "shipment_id": sid,
            "order_id": order_id,
            "reservation_id": reservation["reservation_id"],
            "address": self.customer(self.orders[order_id]["customer_id"])["address"],
            "tracking_number": f"TRK{sid[4:]}",
            "status": "created",
            "idempotency_key": key,
            "correlation_id": order_id,
            "created_at": self._tick(),
            "cancelled_at": None,
        }
        self.shipments.append(row)
        self.log("shipping", "POST", "/shipments", 201, order_id, key=key, effect_id=sid)
        return row

    def undeliverable(self, order_id: str) -> None:
        self.log("shipping", "POST", "/shipments", 422, order_id, key=f"{order_id}:ship")

    def cancel(self, shipment: JSON, *, key: str | None = "") -> JSON:
        oid = shipment["order_id"]
        key = f"{oid}:cancel" if key == "" else key
        if shipment["status"] != "cancelled":
            shipment["status"] = "cancelled"
            shipment["cancelled_at"] = self._tick()
        self.log(
            "shipping",
            "POST",
            f"/shipments/{shipment['shipment_id']}/cancel",
            200,
            oid,
            key=key,
            effect_id=shipment["shipment_id"],
        )
        return shipment

    def notify(self, order_id: str, template: str, *, key: str | None = "") -> JSON:
        key = f"{order_id}:notify:{template}" if key == "" else key
        mid = self._id("msg")
        row = {
            "seq": self._next_seq(),
            "message_id": mid,
            "order_id": order_id,
            "customer_id": self.orders[order_id]["customer_id"],
            "template": template,
            "idempotency_key": key,
            "correlation_id": order_id,
            "created_at": self._tick(),
        }
        self.messages.append(row)
        self.log("notify", "POST", "/messages", 201, order_id, key=key, effect_id=mid)
        return row

    # -- whole saga paths (consistent end states) ------------------------------------------

    def complete(
        self,
        order_id: str,
        customer_id: str = "cus-0001",
        lines: Iterable[tuple[str, int, int]] | None = None,
    ) -> dict[str, JSON]:
        self.order(order_id, customer_id, lines)
        self.lookup(order_id)
        pay = self.capture(order_id)
        res = self.reserve(order_id)
        shp = self.ship(order_id, res)
        msg = self.notify(order_id, "order_confirmed")
        self.report(
            order_id,
            "completed",
            payment_id=pay["payment_id"],
            reservation_id=res["reservation_id"],
            shipment_id=shp["shipment_id"],
        )
        return {"payment": pay, "reservation": res, "shipment": shp, "message": msg}

    def fail_declined(self, order_id: str, customer_id: str = "cus-0001") -> None:
        self.order(order_id, customer_id, card_token="tok_decline_1")
        self.lookup(order_id)
        self.quote(order_id)
        self.decline(order_id)
        self.notify(order_id, "order_failed")
        self.report(order_id, "failed", reason="card-declined")

    def fail_out_of_stock(self, order_id: str, customer_id: str = "cus-0001") -> None:
        self.order(order_id, customer_id)
        self.lookup(order_id)
        pay = self.capture(order_id)
        self.out_of_stock(order_id)
        self.refund(pay)
        self.notify(order_id, "order_failed")
        self.report(order_id, "failed", reason="out-of-stock", payment_id=pay["payment_id"])

    def fail_undeliverable(self, order_id: str, customer_id: str = "cus-0004") -> None:
        self.order(order_id, customer_id)
        self.lookup(order_id)
        pay = self.capture(order_id)
        res = self.reserve(order_id)
        self.undeliverable(order_id)
        self.release(res)
        self.refund(pay)
        self.notify(order_id, "order_failed")
        self.report(order_id, "failed", reason="undeliverable")

    def fail_blocked(
        self, order_id: str, customer_id: str = "cus-0007", *, notify: bool = True
    ) -> None:
        self.order(order_id, customer_id)
        self.lookup(order_id)
        if notify:
            self.notify(order_id, "order_failed")
        self.report(order_id, "failed", reason="customer-blocked")

    def fail_unknown_customer(self, order_id: str, customer_id: str = "cus-9999") -> None:
        self.order(order_id, customer_id)
        self.lookup(order_id)
        self.report(order_id, "failed", reason="unknown-customer")

    # -- output --------------------------------------------------------------------------

    def ledgers(self) -> dict[str, JSON]:
        extra = {
            name: {"service": name, "seed": 7, "tables": tables}
            for name, tables in self.extra_tables.items()
        }
        return {
            **extra,
            "crm": {"service": "crm", "seed": 7, "tables": {"customers": self.customers}},
            "payment": {
                "service": "payment",
                "seed": 7,
                "tables": {"payments": self.payments, "refunds": self.refunds},
            },
            "inventory": {
                "service": "inventory",
                "seed": 7,
                "tables": {"stock": list(self.stock.values()), "reservations": self.reservations},
            },
            "shipping": {
                "service": "shipping",
                "seed": 7,
                "tables": {
                    "rates": self.rates,
                    "weights": self.weights,
                    "shipments": self.shipments,
                },
            },
            "notify": {"service": "notify", "seed": 7, "tables": {"messages": self.messages}},
        }

    def snapshot(
        self, *, settle_seconds: float | None = None, settle: Mapping[str, Any] | None = None
    ) -> Snapshot:
        self.history.journals = self.journals
        st = Settle.from_json(settle or {})
        if settle_seconds is not None:
            st.settle_seconds = settle_seconds
        return Snapshot(
            ledgers=self.ledgers(),
            orders=self.orders,
            reported=self.reported,
            history=self.history,
            settle=st,
            journals=self.journals,
        )
