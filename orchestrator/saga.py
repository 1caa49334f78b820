"""The order-to-cash saga as a resumable state machine.

Each order is one row in the store whose ``step`` says what to do next. A step writes
its *intent* (the fact that an effectful call may be made) before the call, and its
result after, so a crash at any instant resumes by re-running the interrupted step with
the same idempotency key: the service replays the stored answer instead of acting twice.

Forward steps:  customer -> [review] -> quote -> capture -> reserve -> ship -> confirm
Compensation:   comp:cancel -> comp:release -> comp:refund -> comp:notify -> failed

An ambiguous outcome (the budget ran out and some attempt may have landed) is never
assumed to be a success or a failure: the effect is looked up by ``?order_id=`` first.
Compensation undoes whatever the ledgers say belongs to the order, looking it up when
its id was never learnt, and ends in ``needs_attention`` when its own budget runs out,
so money is never left charged on an order reported as failed.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fracas.orchestrator import validate
from fracas.orchestrator.clients import Outcome, RetryPolicy, ServiceClient
from fracas.orchestrator.clock import Clock
from fracas.orchestrator.config import SERVICES, Config
from fracas.orchestrator.metrics import Metrics
from fracas.orchestrator.store import ACTIVE, TERMINAL, Event, OrderRow, Store

log = logging.getLogger("fracas.orchestrator.saga")

COMPENSATION_STEPS = ("comp:cancel", "comp:release", "comp:refund", "comp:notify")
# Forward steps whose call makes an effect that compensation may have to undo.
EFFECT_STEPS = ("capture", "reserve", "ship")


def idempotency_key(order_id: str, purpose: str) -> str:
    """Same key for every attempt of one purpose of one order, across restarts."""
    return f"{order_id}:{purpose}"


@dataclass
class Saga:
    order_id: str
    order: dict[str, Any]
    status: str
    step: str
    reason: str | None
    ctx: dict[str, Any]
    review_deadline: float | None
    events: list[Event] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: OrderRow) -> Saga:
        return cls(
            row.order_id, row.order, row.status, row.step, row.reason, row.ctx,
            row.review_deadline,
        )  # fmt: skip

    @property
    def intents(self) -> list[str]:
        return list(self.ctx.setdefault("intents", []))


class TransitionLog:
    """One JSON line per transition on stdout, flushed in batches (see Engine.flusher)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._out = sys.stdout

    def write(self, saga: Saga, event: Event) -> None:
        if not self.enabled:
            return
        record = {
            "t": round(event.t or time.time(), 6),
            "order_id": saga.order_id,
            "correlation_id": saga.order_id,
            "step": event.step,
            "attempt": event.attempt,
            "outcome": event.outcome,
            "duration_ms": event.duration_ms,
            "status": saga.status,
        }
        if event.detail:
            record["detail"] = event.detail
        self._out.write(json.dumps(record) + "\n")

    def flush(self) -> None:
        try:
            self._out.flush()
        except (OSError, ValueError):
            pass


class Engine:
    def __init__(self, config: Config, store: Store, clock: Clock, metrics: Metrics) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.tlog = TransitionLog(config.log_transitions)
        rng = random.Random(config.seed)
        self.clients: dict[str, ServiceClient] = {
            s: ServiceClient(
                s,
                config.url(s),
                config.call_timeout,
                config.max_connections,
                rng=random.Random(rng.random()),
                on_retry=metrics.retry,
                fast=config.http_client == "fast",
            )
            for s in SERVICES
        }
        self.forward = RetryPolicy(
            config.retry_attempts, config.retry_budget, config.backoff_base,
            config.backoff_cap, config.retry_after_cap,
        )  # fmt: skip
        self.compensating = RetryPolicy(
            config.compensation_attempts, config.compensation_budget, config.backoff_base,
            config.backoff_cap, config.retry_after_cap,
        )  # fmt: skip
        self.slots = asyncio.Semaphore(config.max_in_flight)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.settled: dict[str, asyncio.Event] = {}
        self._background: list[asyncio.Task[None]] = []
        self._stopping = False
        self._review_wakeup = asyncio.Event()
        self.clock.on_advance(self._review_wakeup.set)
        self._steps: dict[str, Callable[[Saga], Awaitable[None]]] = {
            "customer": self._customer,
            "quote": self._quote,
            "capture": self._capture,
            "reserve": self._reserve,
            "ship": self._ship,
            "confirm": self._confirm,
            "comp:cancel": self._comp_cancel,
            "comp:release": self._comp_release,
            "comp:refund": self._comp_refund,
            "comp:notify": self._comp_notify,
        }

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Resume every unfinished saga and start the review-deadline watcher."""
        for order_id in self.store.ids_with_status(ACTIVE):
            self.metrics.resumed += 1
            row = self.store.get(order_id)
            if row is not None:
                event = Event(order_id, row.step, "resumed", t=time.time())
                self.store.append(event)
                self.tlog.write(Saga.from_row(row), event)
            self.spawn(order_id)
        self._background.append(asyncio.create_task(self._review_watcher()))
        self._background.append(asyncio.create_task(self._flusher()))

    async def stop(self) -> None:
        self._stopping = True
        for task in [*self._background, *self.tasks.values()]:
            task.cancel()
        await asyncio.gather(*self._background, *self.tasks.values(), return_exceptions=True)
        for client in self.clients.values():
            await client.aclose()
        self.tlog.flush()

    def spawn(self, order_id: str) -> None:
        if order_id in self.tasks:
            return
        task = asyncio.create_task(self._run(order_id), name=f"saga {order_id}")
        self.tasks[order_id] = task
        task.add_done_callback(functools.partial(self._finished, order_id))

    def _finished(self, order_id: str, _task: object = None) -> None:
        self.tasks.pop(order_id, None)
        if self._stopping:
            return
        # A review decision may have re-activated the order while this task was ending.
        row = self.store.get(order_id)
        if row is not None and row.status in ACTIVE:
            self.spawn(order_id)

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            self.tlog.flush()

    # -- API-facing operations ---------------------------------------------------------
    def submit(self, order: dict[str, Any], body: str) -> tuple[OrderRow, str]:
        """'created', 'same' (idempotent replay) or 'conflict' (another body, same id)."""
        row, created = self.store.create(order["order_id"], body, {"intents": []})
        if created:
            self.tlog.write(
                Saga.from_row(row), Event(row.order_id, "submit", "pending", t=time.time())
            )
            self.spawn(row.order_id)
            return row, "created"
        return row, "same" if row.body == body else "conflict"

    def review(self, order_id: str, decision: str) -> OrderRow | None:
        """Apply a decision; None when the order is not awaiting review."""
        row = self.store.get(order_id)
        if row is None or row.status != "awaiting_review":
            return None
        saga = Saga.from_row(row)
        if decision == "approve":
            self._move(saga, "quote", status="running", event=("review", "approved"))
        else:
            self._fail(saga, "review-rejected", event=("review", "rejected"))
        self.spawn(order_id)
        return self.store.get(order_id)

    def resume(self, order_id: str) -> None:
        """Retry an escalated order from the step where it gave up (a person's call)."""
        row = self.store.get(order_id)
        if row is None or row.status != "needs_attention":
            return
        saga = Saga.from_row(row)
        self._move(saga, saga.step, status="running", event=("resume", "running"))
        self.spawn(order_id)

    def expire_reviews(self) -> int:
        due = self.store.review_due(self.clock.now())
        for order_id in due:
            row = self.store.get(order_id)
            if row is None or row.status != "awaiting_review":
                continue
            self._fail(Saga.from_row(row), "review-timeout", event=("review", "timed_out"))
            self.spawn(order_id)
        return len(due)

    async def _review_watcher(self) -> None:
        while True:
            try:
                self.expire_reviews()
            except Exception:  # noqa: BLE001 - the watcher must outlive a bad row
                log.exception("review watcher")
            self._review_wakeup.clear()
            try:
                await asyncio.wait_for(
                    self._review_wakeup.wait(), self.config.review_check_interval
                )
            except TimeoutError:
                pass

    async def wait_settled(self, order_id: str, timeout: float) -> None:
        row = self.store.get(order_id)
        if row is not None and row.status in ACTIVE:
            event = self.settled.setdefault(order_id, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), timeout)
            except TimeoutError:
                pass
        await self.store.durable()

    # -- the loop ----------------------------------------------------------------------
    async def _run(self, order_id: str) -> None:
        async with self.slots:
            row = self.store.get(order_id)
            if row is None or row.status not in ACTIVE:
                return
            saga = Saga.from_row(row)
            if saga.status == "pending":
                # Saved with the first step's result: one commit fewer per order, and a
                # crash before it resumes a pending order exactly like a running one.
                saga.status = "running"
                start = Event(order_id, "start", "running", t=time.time())
                saga.events.append(start)
                self.tlog.write(saga, start)
            while saga.status == "running":
                step = self._steps.get(saga.step)
                try:
                    if step is None:
                        raise RuntimeError(f"unknown step {saga.step!r}")
                    await step(saga)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a bug must not leave it running
                    log.exception("saga %s step %s", order_id, saga.step)
                    self._move(
                        saga,
                        saga.step,
                        status="needs_attention",
                        reason=f"internal error at {saga.step}: {exc!r}",
                        event=(saga.step, "internal_error"),
                    )

    # -- persistence helpers -----------------------------------------------------------
    def _move(
        self,
        saga: Saga,
        step: str,
        *,
        status: str | None = None,
        reason: str | None = None,
        event: tuple[str, str],
        outcome: Outcome | None = None,
        detail: dict[str, Any] | None = None,
        review_deadline: float | None = None,
    ) -> None:
        saga.step = step
        if step in EFFECT_STEPS and step not in saga.intents:
            # Entering an effectful step is its intent: written before any call is made.
            saga.ctx["intents"] = [*saga.intents, step]
        if status is not None:
            saga.status = status
        if reason is not None:
            saga.reason = reason
        saga.review_deadline = review_deadline
        ev = Event(
            saga.order_id,
            event[0],
            event[1],
            attempt=outcome.attempts if outcome else None,
            duration_ms=round(outcome.duration * 1000, 3) if outcome else None,
            detail=detail,
            t=time.time(),
        )
        self.store.save(
            saga.order_id, saga.status, saga.step, saga.reason, saga.ctx,
            saga.review_deadline, [*saga.events, ev],
        )  # fmt: skip
        saga.events.clear()
        self.tlog.write(saga, ev)
        if outcome is not None:
            self.metrics.step(event[0], event[1], outcome.duration)
        if saga.status not in ACTIVE:
            if saga.status in TERMINAL:
                self.metrics.terminal(saga.status)
            waiter = self.settled.pop(saga.order_id, None)
            if waiter is not None:
                waiter.set()

    def _intend(self, saga: Saga, purpose: str) -> None:
        """Record, before the call, that an effect for `purpose` may come to exist."""
        intents = saga.intents
        if purpose not in intents:
            intents.append(purpose)
            saga.ctx["intents"] = intents
            self._move(saga, saga.step, event=(purpose, "intent"))

    def _forget(self, saga: Saga, purpose: str) -> None:
        """A definite refusal: the effect does not exist, nothing to compensate."""
        saga.ctx["intents"] = [p for p in saga.intents if p != purpose]

    def _fail(
        self,
        saga: Saga,
        reason: str,
        *,
        event: tuple[str, str],
        outcome: Outcome | None = None,
        notify: bool | None = None,
    ) -> None:
        """Start compensation: everything intended is undone, then order_failed is sent
        (by default when the customer is known to exist)."""
        if notify is None:
            notify = saga.ctx.get("customer") is not None
        saga.ctx["notify_failed"] = notify
        self._move(
            saga,
            COMPENSATION_STEPS[0],
            status="running",
            reason=reason,
            event=event,
            outcome=outcome,
            detail=_detail(outcome),
        )

    def _attention(self, saga: Saga, why: str, outcome: Outcome | None, step: str) -> None:
        prefix = f"{saga.reason}; " if saga.reason else ""
        self._move(
            saga,
            saga.step,
            status="needs_attention",
            reason=prefix + why,
            event=(step, "needs_attention"),
            outcome=outcome,
            detail=_detail(outcome),
        )

    async def _call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        saga: Saga,
        step: str,
        validator: validate.Validator,
        body: Any = None,
        params: dict[str, str] | None = None,
        key: str | None = None,
        compensation: bool = False,
    ) -> Outcome:
        # Nothing leaves the process before the state that led to it is on disk.
        await self.store.durable()
        return await self.clients[service].call(
            method,
            path,
            step=step,
            policy=self.compensating if compensation else self.forward,
            validator=validator,
            correlation_id=saga.order_id,
            json_body=body,
            params=params,
            idempotency_key=key,
        )

    async def _lookup(
        self,
        service: str,
        path: str,
        table: str,
        saga: Saga,
        step: str,
        id_field: str,
        compensation: bool = False,
    ) -> list[dict[str, Any]] | None:
        """What the service's ledger holds for this order; None when it cannot be read."""

        def rows_ok(body: Any) -> str | None:
            rows = validate.listing(body, table)
            if rows is None:
                return "not a listing"
            for r in rows:
                if not isinstance(r.get(id_field), str) or not isinstance(r.get("status", ""), str):
                    return f"row without {id_field}"
            return None

        outcome = await self._call(
            service,
            "GET",
            path,
            saga=saga,
            step=f"{step}:lookup",
            validator=rows_ok,
            params={"order_id": saga.order_id},
            compensation=compensation,
        )
        self.metrics.step(f"{step}:lookup", outcome.kind, outcome.duration)
        if not outcome.ok:
            return None
        rows = validate.listing(outcome.body, table) or []
        return [r for r in rows if r.get("order_id", saga.order_id) == saga.order_id]

    # -- forward steps -----------------------------------------------------------------
    async def _customer(self, saga: Saga) -> None:
        cid = saga.order["customer_id"]
        # ?order_id= is not needed by the CRM; it lets its journal and fault rules
        # attribute the read to this order, like every other call.
        o = await self._call(
            "crm", "GET", f"/customers/{cid}", saga=saga, step="customer",
            validator=validate.customer, params={"order_id": saga.order_id},
        )  # fmt: skip
        if o.ok:
            if o.body["customer_id"] != cid:
                o = Outcome("unknown", error="crm answered for another customer")
            else:
                saga.ctx["customer"] = {
                    "status": o.body["status"],
                    "risk": o.body["risk"],
                    "address": o.body["address"],
                }
        if o.ok:
            if o.body["status"] == "blocked":
                self._fail(saga, "customer-blocked", event=("customer", "blocked"), outcome=o)
            elif o.body["risk"] == "high":
                self._move(
                    saga,
                    "review",
                    status="awaiting_review",
                    event=("customer", "awaiting_review"),
                    outcome=o,
                    review_deadline=self.clock.now() + self.config.review_timeout,
                )
            else:
                self._move(saga, "quote", event=("customer", "ok"), outcome=o)
        elif o.kind == "refused":
            # No such customer: nothing was done and there is nobody to notify.
            self._fail(
                saga, f"customer-{o.problem or 'refused'}", event=("customer", "refused"),
                outcome=o, notify=False,
            )  # fmt: skip
        else:
            # Nothing has been done. Whether the customer exists is unknown, so tell
            # them: §5 wants order_failed if they exist and tolerates one if not.
            self._fail(saga, "crm-unavailable", event=("customer", "unknown"), outcome=o,
                       notify=True)  # fmt: skip

    async def _quote(self, saga: Saga) -> None:
        body = {
            # Extra fields are ignored by the quote; order_id attributes it to the order.
            "order_id": saga.order_id,
            "address": saga.ctx["customer"]["address"],
            "lines": [{"sku": ln["sku"], "qty": ln["qty"]} for ln in saga.order["lines"]],
        }
        o = await self._call(
            "shipping", "POST", "/quotes", saga=saga, step="quote", validator=validate.quote,
            body=body, key=idempotency_key(saga.order_id, "quote"),
        )  # fmt: skip
        if o.ok:
            lines_total = sum(ln["qty"] * ln["unit_price_cents"] for ln in saga.order["lines"])
            saga.ctx["quote_cents"] = o.body["amount_cents"]
            saga.ctx["amount_cents"] = lines_total + o.body["amount_cents"]
            self._move(saga, "capture", event=("quote", "ok"), outcome=o)
        elif o.kind == "refused":
            self._fail(saga, f"quote-{o.problem}", event=("quote", "refused"), outcome=o)
        else:
            self._fail(saga, "shipping-unavailable", event=("quote", "unknown"), outcome=o)

    async def _capture(self, saga: Saga) -> None:
        amount = saga.ctx["amount_cents"]
        self._intend(saga, "capture")
        body = {
            "order_id": saga.order_id,
            "amount_cents": amount,
            "currency": saga.order["currency"],
            "card_token": saga.order["card_token"],
        }
        o = await self._call(
            "payment", "POST", "/payments", saga=saga, step="capture",
            validator=validate.payment(saga.order_id, amount), body=body,
            key=idempotency_key(saga.order_id, "capture"),
        )  # fmt: skip
        found = await self._effect(saga, o, "capture", "payment", "/payments", "payments",
                                   "payment_id", lambda r: r.get("status") == "captured")  # fmt: skip
        if found is not None:
            saga.ctx["payment_id"] = found["payment_id"]
            self._move(saga, "reserve", event=("capture", "ok"), outcome=o,
                       detail={"payment_id": found["payment_id"]})  # fmt: skip
        elif o.kind == "refused":
            self._refused(saga, o, "capture", {"card-declined"})
        else:
            self._fail(saga, "payment-unavailable", event=("capture", "unknown"), outcome=o)

    async def _reserve(self, saga: Saga) -> None:
        self._intend(saga, "reserve")
        body = {
            "order_id": saga.order_id,
            "lines": [{"sku": ln["sku"], "qty": ln["qty"]} for ln in saga.order["lines"]],
        }
        o = await self._call(
            "inventory", "POST", "/reservations", saga=saga, step="reserve",
            validator=validate.reservation(saga.order_id), body=body,
            key=idempotency_key(saga.order_id, "reserve"),
        )  # fmt: skip
        found = await self._effect(saga, o, "reserve", "inventory", "/reservations",
                                   "reservations", "reservation_id",
                                   lambda r: r.get("status") == "held")  # fmt: skip
        if found is not None:
            saga.ctx["reservation_id"] = found["reservation_id"]
            self._move(saga, "ship", event=("reserve", "ok"), outcome=o,
                       detail={"reservation_id": found["reservation_id"]})  # fmt: skip
        elif o.kind == "refused":
            self._refused(saga, o, "reserve", {"out-of-stock"})
        else:
            self._fail(saga, "inventory-unavailable", event=("reserve", "unknown"), outcome=o)

    async def _ship(self, saga: Saga) -> None:
        self._intend(saga, "ship")
        body = {
            "order_id": saga.order_id,
            "reservation_id": saga.ctx["reservation_id"],
            "address": saga.ctx["customer"]["address"],
        }
        o = await self._call(
            "shipping", "POST", "/shipments", saga=saga, step="ship",
            validator=validate.shipment, body=body, key=idempotency_key(saga.order_id, "ship"),
        )  # fmt: skip
        if o.ok and o.body.get("status") != "created":
            o = Outcome("unknown", ambiguous=True, error="shipment not in state created",
                        attempts=o.attempts, duration=o.duration)  # fmt: skip
        found = await self._effect(saga, o, "ship", "shipping", "/shipments", "shipments",
                                   "shipment_id", lambda r: r.get("status") == "created")  # fmt: skip
        if found is not None:
            saga.ctx["shipment_id"] = found["shipment_id"]
            self._move(saga, "confirm", event=("ship", "ok"), outcome=o,
                       detail={"shipment_id": found["shipment_id"]})  # fmt: skip
        elif o.kind == "refused":
            self._refused(saga, o, "ship", {"undeliverable"})
        else:
            self._fail(saga, "shipping-unavailable", event=("ship", "unknown"), outcome=o)

    async def _confirm(self, saga: Saga) -> None:
        sent, o = await self._notify(saga, "order_confirmed", "confirm")
        if sent:
            self._move(saga, "done", status="completed", event=("confirm", "completed"))
        else:
            self._attention(saga, f"order_confirmed not sent: {o.error or o.problem}", o,
                            "confirm")  # fmt: skip

    async def _effect(
        self,
        saga: Saga,
        o: Outcome,
        purpose: str,
        service: str,
        path: str,
        table: str,
        id_field: str,
        live: Callable[[dict[str, Any]], bool],
    ) -> dict[str, Any] | None:
        """The effect a forward call made: its answer, or the ledger's word after doubt."""
        if o.ok:
            return dict(o.body)
        if o.kind != "unknown" or not o.ambiguous:
            return None
        rows = await self._lookup(service, path, table, saga, purpose, id_field)
        if rows is None:
            return None
        mine = [r for r in rows if live(r)]
        key = idempotency_key(saga.order_id, purpose)
        mine.sort(key=lambda r: r.get("idempotency_key") != key)
        return mine[0] if mine else None

    def _refused(self, saga: Saga, o: Outcome, purpose: str, business: set[str]) -> None:
        if o.problem != "idempotency-key-reused":
            self._forget(saga, purpose)
        reason = o.problem if o.problem in business else f"{purpose}-refused:{o.problem}"
        self._fail(saga, reason or f"{purpose}-refused", event=(purpose, "refused"), outcome=o)

    async def _notify(self, saga: Saga, template: str, step: str) -> tuple[bool, Outcome]:
        """Send one message at most once; True when the ledger holds it."""
        body = {
            "order_id": saga.order_id,
            "customer_id": saga.order["customer_id"],
            "template": template,
        }
        o = await self._call(
            "notify", "POST", "/messages", saga=saga, step=step, validator=validate.message,
            body=body, key=idempotency_key(saga.order_id, f"notify:{template}"),
            compensation=True,
        )  # fmt: skip
        self.metrics.step(step, o.kind, o.duration)
        if o.ok:
            return True, o
        if o.kind == "unknown" and o.ambiguous:
            rows = await self._lookup("notify", "/messages", "messages", saga, step,
                                      "message_id", compensation=True)  # fmt: skip
            if rows is not None and any(r.get("template") == template for r in rows):
                return True, o
        return False, o

    # -- compensation ------------------------------------------------------------------
    def _next_comp(self, saga: Saga, step: str, o: Outcome | None = None) -> None:
        i = COMPENSATION_STEPS.index(step)
        if i + 1 < len(COMPENSATION_STEPS):
            self._move(saga, COMPENSATION_STEPS[i + 1], event=(step, "done"), outcome=o)
        else:
            self._move(saga, "done", status="failed", event=(step, "failed"), outcome=o)

    async def _undo_all(
        self,
        saga: Saga,
        step: str,
        purpose: str,
        known_id: str | None,
        service: str,
        path: str,
        table: str,
        id_field: str,
        live: Callable[[dict[str, Any]], bool],
        undo: Callable[[dict[str, Any]], Awaitable[Outcome]],
    ) -> None:
        """Undo the effect of `purpose`: the known one, or all the ledger shows."""
        if purpose not in saga.intents:
            self._next_comp(saga, step)
            return
        if known_id is not None:
            targets: list[dict[str, Any]] | None = [{id_field: known_id}]
        else:
            rows = await self._lookup(service, path, table, saga, step, id_field, True)
            targets = None if rows is None else [r for r in rows if live(r)]
        if targets is None:
            self.metrics.compensation(step, "unresolved")
            self._attention(saga, f"{step}: cannot read {service} ledger", None, step)
            return
        last: Outcome | None = None
        for target in targets:
            last = await undo(target)
            if not last.ok:
                self.metrics.compensation(step, last.kind)
                self._attention(saga, f"{step} failed: {last.error or last.problem}", last, step)
                return
        self.metrics.compensation(step, "ok")
        self._next_comp(saga, step, last)

    async def _comp_cancel(self, saga: Saga) -> None:
        async def cancel(row: dict[str, Any]) -> Outcome:
            sid = row["shipment_id"]
            o = await self._call(
                "shipping", "POST", f"/shipments/{sid}/cancel", saga=saga, step="comp:cancel",
                validator=validate.cancelled, key=idempotency_key(saga.order_id, f"cancel:{sid}"),
                compensation=True,
            )  # fmt: skip
            return o

        await self._undo_all(
            saga, "comp:cancel", "ship", saga.ctx.get("shipment_id"), "shipping", "/shipments",
            "shipments", "shipment_id", lambda r: r.get("status") != "cancelled", cancel,
        )  # fmt: skip

    async def _comp_release(self, saga: Saga) -> None:
        async def release(row: dict[str, Any]) -> Outcome:
            rid = row["reservation_id"]
            return await self._call(
                "inventory", "POST", f"/reservations/{rid}/release", saga=saga,
                step="comp:release", validator=validate.released,
                key=idempotency_key(saga.order_id, f"release:{rid}"), compensation=True,
            )  # fmt: skip

        await self._undo_all(
            saga, "comp:release", "reserve", saga.ctx.get("reservation_id"), "inventory",
            "/reservations", "reservations", "reservation_id",
            lambda r: r.get("status") == "held", release,
        )  # fmt: skip

    async def _comp_refund(self, saga: Saga) -> None:
        known = saga.ctx.get("payment_id")

        async def refund(row: dict[str, Any]) -> Outcome:
            pid = row["payment_id"]
            if "amount_cents" in row:
                amount = row["amount_cents"] - (row.get("refunded_cents") or 0)
            else:
                amount = saga.ctx["amount_cents"]
            if amount <= 0:
                return Outcome("ok")
            o = await self._call(
                "payment", "POST", f"/payments/{pid}/refunds", saga=saga, step="comp:refund",
                validator=validate.refund(pid), body={"amount_cents": amount},
                key=idempotency_key(saga.order_id, f"refund:{pid}"), compensation=True,
            )  # fmt: skip
            if o.kind == "refused" and o.problem == "refund-exceeds-capture":
                # Already refunded (by us, before a crash): confirm from the ledger.
                p = await self._call(
                    "payment", "GET", f"/payments/{pid}", saga=saga, step="comp:refund:check",
                    validator=validate.payment(saga.order_id), compensation=True,
                )  # fmt: skip
                if p.ok and p.body["refunded_cents"] >= p.body["amount_cents"]:
                    return p
            return o

        await self._undo_all(
            saga, "comp:refund", "capture", known, "payment", "/payments", "payments",
            "payment_id", lambda r: r.get("status") == "captured", refund,
        )  # fmt: skip

    async def _comp_notify(self, saga: Saga) -> None:
        if not saga.ctx.get("notify_failed"):
            self._next_comp(saga, "comp:notify")
            return
        sent, o = await self._notify(saga, "order_failed", "comp:notify")
        if sent:
            self.metrics.compensation("comp:notify", "ok")
            self._next_comp(saga, "comp:notify")
        else:
            self.metrics.compensation("comp:notify", o.kind)
            self._attention(saga, f"order_failed not sent: {o.error or o.problem}", o,
                            "comp:notify")  # fmt: skip


def _detail(o: Outcome | None) -> dict[str, Any] | None:
    if o is None or o.ok:
        return None
    d: dict[str, Any] = {"kind": o.kind}
    if o.status is not None:
        d["status"] = o.status
    if o.problem:
        d["problem"] = o.problem
    if o.error:
        d["error"] = o.error
    if o.ambiguous:
        d["ambiguous"] = True
    return d
