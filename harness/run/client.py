"""The run's client, as client faults use it: it sends their inputs, records each with
its answer, and waits for their effects before the checkers read the ledgers.

Client faults (``harness/faults/client.py``) are the orchestrator's own inputs arriving
twice, late or changed. Like the workload they only append to the history, Jepsen's way:
each input is an operation invoked, then ok (2xx), failed (an answer that refused it)
or unknown (no answer, or a 5xx), with the answers the contract allows for it
(``expect``), so the checkers judge what it did, and may judge what it was answered.
An input sent late can start work the orchestrator had finished (a second saga), so
every input's order is followed until it rests and its fakes' journals have gone quiet:
a run never reads the ledgers between an input and its effects.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fracas.harness.adapters import AdapterError, OrchestratorAdapter
from fracas.harness.faults.base import Fault
from fracas.harness.faults.client import TERMINAL, Answer, ClientFault, ReviewFault
from fracas.harness.faults.context import FaultContext
from fracas.harness.kit.procs import ProcessHandle
from fracas.harness.kit.timescale import scaled
from fracas.harness.kit.toxiclient import ToxiClient
from fracas.harness.model.history import CLIENT_REVIEW, CLIENT_SUBMIT, History
from fracas.harness.run.quiet import Movement
from fracas.harness.run.workload import OrderPlan

#: How far the clock jumps to let a review time out (past any sane review timeout).
REVIEW_TIMEOUT_JUMP = 30 * 24 * 3600.0
#: Seconds (before the time scale) a client fault waits for the order state its input
#: needs, and for the order to rest after it.
WAIT_SECONDS = 20.0
#: Seconds of no journal line of the order, the order at rest, after which an input's
#: effects are taken to have landed: a second saga calls its first service at once.
QUIET_AFTER_INPUT = 1.0
POLL_SECONDS = 0.02


@dataclass
class RunClient:
    """Sends client faults' inputs for one run (or one stateful example)."""

    adapter: OrchestratorAdapter
    #: The run's orders by id (the stateful run's grows as it submits).
    plans: Mapping[str, OrderPlan]
    history: History
    admin_urls: Mapping[str, str]
    #: Schedule entry of each fault, by fault id (the nemesis fills it), for coverage.
    entries: dict[str, int] = field(default_factory=dict)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    #: Orders the run judged stuck (``give_up``): an input waiting on them waits no more.
    _still: set[str] = field(default_factory=set)
    #: Per order, the inputs scheduled to make its review decision that have not ended.
    _deciders: dict[str, int] = field(default_factory=dict)
    #: When an input jumped the clock past its order's review timeout, by order (the
    #: order awaited review then): the runner judges from then whether the timeout fired.
    jumped: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what a client fault asks (faults.client.OrderClient) --------------------------
    def spawn(self, fault: Fault, work: Callable[[], None]) -> None:
        thread = threading.Thread(
            target=self._work, args=(fault, work), name=f"fracas-client-{fault.kind}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def body(self, order_id: str) -> dict[str, Any] | None:
        plan = self.plans.get(order_id)
        return None if plan is None else copy.deepcopy(plan.order)

    def current(self, order_id: str) -> str | None:
        try:
            body = self.adapter.status(order_id)
        except AdapterError:
            return None
        status = None if body is None else body.get("status")
        return status if isinstance(status, str) else None

    def wait_status(self, order_id: str, wanted: Collection[str]) -> str | None:
        deadline = time.monotonic() + scaled(WAIT_SECONDS)
        while not self._stop.is_set() and time.monotonic() < deadline:
            if order_id in self._still:
                break  # stuck: what the input waited for will not come either
            status = self.current(order_id)
            if status in wanted:
                return status
            if status in TERMINAL:
                break  # at rest elsewhere: what the input waited for will not come
            self._stop.wait(POLL_SECONDS)  # polling the orchestrator, not a sync
        self.history.note("client-input-not-sent", order_id, wanted=sorted(wanted))
        return None

    def submit(self, fault: Fault, order: Mapping[str, Any], expect: Collection[int],
               note: str) -> Answer:  # fmt: skip
        oid = str(order.get("order_id"))
        op = self.history.invoke(CLIENT_SUBMIT, oid, order=dict(order),
                                 **self._about(fault, expect, note))  # fmt: skip
        res = self.adapter.submit(dict(order))
        return self._complete(op, res.status_code, res.body, res.error)

    def review(self, fault: Fault, order_id: str, decision: str, expect: Collection[int],
               note: str, in_review: Collection[int] = ()) -> Answer:  # fmt: skip
        about = self._about(fault, expect, note)
        if in_review:
            about["in_review"] = sorted(in_review)
        op = self.history.invoke(CLIENT_REVIEW, order_id, decision=decision, **about)
        try:
            answer = self.adapter.review(order_id, decision)
        except AdapterError as exc:
            return self._complete(op, None, {}, f"{type(exc).__name__}: {exc}")
        return self._complete(op, answer.status_code, answer.body, None)

    def advance_clock(self, fault: Fault) -> bool:
        if "advance_clock" not in self.adapter.capabilities:
            self.history.note("client-clock-missing", fault=fault.id)
            return False
        op = self.history.invoke("advance_clock", None, seconds=REVIEW_TIMEOUT_JUMP,
                                 fault=fault.id, kind=fault.kind)  # fmt: skip
        try:
            self.adapter.advance_clock(REVIEW_TIMEOUT_JUMP)
        except AdapterError as exc:
            op.unknown(error=str(exc))
            return False
        op.ok()
        order_id = fault.params.get("order_id")
        if isinstance(order_id, str):
            with self._lock:
                self.jumped.setdefault(order_id, time.monotonic())
        return True

    def together(self, calls: Sequence[Callable[[], object]]) -> list[object]:
        gate = threading.Barrier(len(calls))
        out: list[object] = [None] * len(calls)

        def one(i: int) -> None:
            try:
                gate.wait(scaled(5.0))
            except threading.BrokenBarrierError:
                pass  # a slow thread start: send anyway
            out[i] = calls[i]()

        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scaled(WAIT_SECONDS))
        return out

    # -- the run's side ----------------------------------------------------------------
    def join(self, timeout: float | None = None) -> None:
        """Wait until every input was sent and its order came to rest (bounded)."""
        deadline = time.monotonic() + (scaled(2 * WAIT_SECONDS) if timeout is None else timeout)
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def expect(self, fault: Fault) -> None:
        """A scheduled client fault (the nemesis tells each before the run starts): one
        that makes an order's review decision holds the run's reviewer off that order
        until it ends, even before it is applied (the order may await review first)."""
        self._count_decider(fault, +1)

    def deciding(self, order_id: str) -> bool:
        """An input of this order's review decision is scheduled or at work."""
        with self._lock:
            return self._deciders.get(order_id, 0) > 0

    def give_up(self, order_ids: Collection[str]) -> None:
        """These orders went still with nothing holding them back (the runner's
        judgement): an input waiting for one of them to await review or to finish stops
        waiting, so the run does not sit out ``WAIT_SECONDS`` twice per input for an
        order whose liveness violation is already certain."""
        self._still.update(order_ids)

    def stop(self) -> None:
        """Stop waiting for states that will not come (the run is being torn down)."""
        self._stop.set()

    def _work(self, fault: Fault, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - recorded; the run goes on to its verdict
            self.history.note("client-fault-error", error=f"{type(exc).__name__}: {exc}",
                              fault=fault.id)  # fmt: skip
        finally:
            self._count_decider(fault, -1)  # the reviewer may answer this order again
        order_id = fault.params.get("order_id")
        if isinstance(order_id, str):
            self._rest(order_id)

    def _count_decider(self, fault: Fault, step: int) -> None:
        """Count a review input that decides its order in (+1, scheduled) or out (-1,
        ended: sent, or its wait gave up); any other fault counts for nothing."""
        if isinstance(fault, ReviewFault) and fault.decides:
            with self._lock:
                n = self._deciders.get(fault.order_id, 0) + step
                self._deciders[fault.order_id] = max(0, n)

    def _rest(self, order_id: str) -> None:
        """The order at rest and its journals quiet for ``QUIET_AFTER_INPUT``: what the
        input set off (a second saga, a compensation) has landed in the ledgers."""
        movement = Movement(self.admin_urls)
        deadline = time.monotonic() + scaled(WAIT_SECONDS)
        quiet = scaled(QUIET_AFTER_INPUT)
        movement.restart_clock([order_id], time.monotonic())
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                if order_id in self._still:
                    return  # stuck: it will not come to rest; liveness says so
                now = time.monotonic()
                movement.look({order_id}, now)
                if self.current(order_id) in TERMINAL and movement.quiet(order_id, now, quiet):
                    return
                self._stop.wait(POLL_SECONDS)
        finally:
            movement.close()

    def _about(self, fault: Fault, expect: Collection[int], note: str) -> dict[str, Any]:
        return {
            "index": self.entries.get(fault.id),
            "fault": fault.id,
            "kind": fault.kind,
            "expect": sorted(expect),
            "race": isinstance(fault, ClientFault) and fault.is_race(fault.params),
            "note": note,
        }

    @staticmethod
    def _complete(op: Any, code: int | None, body: Mapping[str, Any], error: str | None
                  ) -> Answer:  # fmt: skip
        answer = Answer(code, dict(body))
        if code is None or code >= 500:
            op.unknown(status_code=code, body=dict(body), error=error)
        elif 200 <= code < 300:
            op.ok(status_code=code, body=dict(body))
        else:
            op.fail(status_code=code, body=dict(body))
        return answer


@dataclass
class ClientContext:
    """A fault context with the run's client: what client faults are applied through;
    every other family sees the context it wraps."""

    inner: FaultContext
    client: RunClient

    @property
    def toxiproxy(self) -> ToxiClient | None:
        return self.inner.toxiproxy

    def targets(self) -> Iterable[str]:
        return self.inner.targets()

    def proxy_name(self, target: str) -> str | None:
        return self.inner.proxy_name(target)

    def admin_url(self, target: str) -> str | None:
        return self.inner.admin_url(target)

    def process(self, target: str) -> ProcessHandle | None:
        return self.inner.process(target)

    def wait_healthy(self, target: str) -> None:
        self.inner.wait_healthy(target)
