"""The order-to-cash saga as a resumable state machine.

Each order is one row in the store whose ``step`` says what to do next. A step writes
its *intent* (the fact that an effectful call may be made) before the call, and its
result after, so a crash at any instant resumes by re-running the interrupted step with
the same idempotency key: the service replays the stored answer instead of acting twice.

Forward steps:  customer -> [review] -> quote -> capture -> reserve -> ship -> confirm
Compensation:   comp:cancel -> comp:release -> comp:refund -> comp:notify -> failed

An ambiguous outcome (the budget ran out and some attempt may have landed) is never
assumed to be a success or a failure: the effect is looked up by ``?order_id=`` first.

The engine is put together from one module per part, each a base class of ``Engine``
reading the fields its ``__init__`` sets: ``state`` (the record and step names),
``transitions`` (saving, logging and counting each move), ``calls`` (service calls and
ledger lookups), ``forward`` and ``compensation`` (the steps). This module keeps what
drives them: start and stop, the API-facing operations, the review timer and the loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fracas.orchestrator.clients import RetryPolicy, ServiceClient
from fracas.orchestrator.clock import Clock
from fracas.orchestrator.compensation import Compensation
from fracas.orchestrator.config import SERVICES, Config
from fracas.orchestrator.forward import ForwardSteps
from fracas.orchestrator.metrics import Metrics
from fracas.orchestrator.outbox import Relay
from fracas.orchestrator.state import Saga
from fracas.orchestrator.storage import fail_stop, is_storage_error
from fracas.orchestrator.store import ACTIVE, Event, OrderRow, Store
from fracas.orchestrator.transitions import TransitionLog

log = logging.getLogger("fracas.orchestrator.saga")


class Engine(ForwardSteps, Compensation):
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
        self.relay = Relay(store, config.broker_url) if config.events and config.broker_url else None
        self.no_outbox = "events-no-outbox" in config.bugs
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
        if self.relay is not None:
            self._background.append(asyncio.create_task(self.relay.run()))

    async def stop(self) -> None:
        self._stopping = True
        for task in [*self._background, *self.tasks.values()]:
            task.cancel()
        await asyncio.gather(*self._background, *self.tasks.values(), return_exceptions=True)
        if self.relay is not None:
            await self.relay.close()
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
                    if is_storage_error(exc):
                        fail_stop(self.store.path.parent, exc)
                    log.exception("saga %s step %s", order_id, saga.step)
                    self._move(
                        saga,
                        saga.step,
                        status="needs_attention",
                        reason=f"internal error at {saga.step}: {exc!r}",
                        event=(saga.step, "internal_error"),
                    )
