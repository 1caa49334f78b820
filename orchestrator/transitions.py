"""Every change of a saga's state: saved, logged and counted in one place.

A transition is the only way a step moves an order on, so the rule that the state (and
the intent of an effectful step) is on disk before anything leaves the process holds for
every step without each one having to remember it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from fracas.orchestrator.announce import end_event
from fracas.orchestrator.clients import Outcome
from fracas.orchestrator.metrics import Metrics
from fracas.orchestrator.outbox import Relay
from fracas.orchestrator.state import COMPENSATION_STEPS, EFFECT_STEPS, Saga
from fracas.orchestrator.store import ACTIVE, TERMINAL, Event, Store


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


class Transitions:
    """The moves every step makes; the engine (``saga.Engine``) sets the fields."""

    store: Store
    metrics: Metrics
    tlog: TransitionLog
    settled: dict[str, asyncio.Event]
    #: The event side (None: no broker, the orchestrator notifies by itself).
    relay: Relay | None
    #: ``--bug events-no-outbox``: the end event leaves from memory after the commit.
    no_outbox: bool

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
        if status is not None and self.relay is not None:
            self._announce(saga)
        self.tlog.write(saga, ev)
        if outcome is not None:
            self.metrics.step(event[0], event[1], outcome.duration)
        if saga.status not in ACTIVE:
            if saga.status in TERMINAL:
                self.metrics.terminal(saga.status)
            waiter = self.settled.pop(saga.order_id, None)
            if waiter is not None:
                waiter.set()

    def _announce(self, saga: Saga) -> None:
        """An order that just ended is announced: its event joins the same transaction
        as the state change (no await since ``save``), so neither exists without the other."""
        assert self.relay is not None
        ended = end_event(saga)
        if ended is None:
            return
        if self.no_outbox:
            self.relay.publish_later(*ended)
        else:
            self.store.outbox_add(*ended)
            self.relay.wake()

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
