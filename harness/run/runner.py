"""One chaos run: the workload and the nemesis act, the checker judges.

They meet only in the History: the workload records each submit, status read and
review as invoked then ok, failed or unknown; the nemesis records each fault applied
and healed; the fakes' journals are attached at the end; the checkers read the
ledgers beside it. ``run`` returns a RunResult that carries everything a report or a
replay file needs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fracas.harness.adapters import AdapterError, OrchestratorAdapter
from fracas.harness.adapters.base import DEFAULT_CALL_TIMEOUT, call_timeout
from fracas.harness.checkers import CheckConfig, CheckResult, Settle, Snapshot, check
from fracas.harness.faults.base import fault_kinds
from fracas.harness.faults.message import refusal
from fracas.harness.kit.timescale import scaled
from fracas.harness.model.coverage import entry_hits
from fracas.harness.model.history import (
    REVIEW,
    STATUS,
    SUBMIT,
    TERMINAL_STATUSES,
    History,
    describe_fault,
)
from fracas.harness.report.text import ConsistencyError, failure_text
from fracas.harness.run.brokerside import BrokerSide
from fracas.harness.run.client import REVIEW_TIMEOUT_JUMP as REVIEW_TIMEOUT_JUMP
from fracas.harness.run.client import RunClient
from fracas.harness.run.drain import wait_for_fakes
from fracas.harness.run.nemesis import Nemesis, NemesisReport
from fracas.harness.run.provenance import replay_context
from fracas.harness.run.quiet import Movement, quiet_period
from fracas.harness.run.schedule import Schedule, ScheduleError, parse_schedule
from fracas.harness.run.topology import Topology
from fracas.harness.run.workload import OrderPlan

REPLAY_VERSION = 1


class NemesisError(RuntimeError):
    """A fault could not be applied or healed: the run is broken, not inconsistent."""

    def __init__(self, errors: dict[int, str]) -> None:
        self.errors = errors
        lines = "\n".join(f"  faults[{i}]: {e}" for i, e in sorted(errors.items()))
        super().__init__(
            f"the schedule could not be carried out, so there is no verdict:\n{lines}\n"
            "Check each fault's target and params (docs/faults.md), and the logs in the run "
            "directory."
        )


class NotAnOrchestratorError(RuntimeError):
    """Every submission was answered 404/405: whatever listens on the orchestrator's URL
    does not serve ``POST /orders`` (e.g. another process took its port), so the run has
    no verdict rather than a "consistent" one."""


class VacuousRunError(AssertionError):
    """The run passed without testing anything: a scheduled fault never fired, or hit no
    request while orders were in flight. Opt an entry out with ``"may_not_fire": true``."""

    def __init__(self, vacuous: Sequence[str]) -> None:
        self.vacuous = list(vacuous)
        lines = "\n".join(f"  {v}" for v in self.vacuous)
        super().__init__(
            "vacuous run: the orders stayed consistent, but these faults did nothing, so "
            f"the run proved nothing about them:\n{lines}\n"
            'Aim each fault at a step the orders take, or mark its entry "may_not_fire": true.'
        )


@dataclass
class RunOptions:
    settle_seconds: float = 30.0
    #: The workload phase ends when every scheduled fault has run its course, or every
    #: order is terminal (a trigger that can no longer fire), or after this long.
    workload_seconds: float = 120.0
    submit_deadline: float = 60.0
    concurrency: int = 16
    #: Orders go to the orchestrator in plan order: each is sent once the one before it
    #: was answered, or after this long (a down orchestrator answers nobody). Sent all at
    #: once, whichever thread ran first led: two orders in lockstep swapped places
    #: between a search and its replay, and a crash that caught one at its message in
    #: the search caught it earlier in the replay (unkeyed-notify replayed 0 of 5).
    submit_gap: float = 0.5
    poll_interval: float = 0.02
    #: Seconds an order that is to time out in review may stay awaiting_review, with every
    #: fault healed, after the harness jumped the orchestrator's clock past any review
    #: timeout, before the settle phase gives up on it (see ``_settle``).
    stuck_review_after: float = 3.0
    #: The same when the schedule kills or restarts the orchestrator: one restarted while
    #: it sent the order's failure message may report the order awaiting_review until a
    #: call timeout lets it retry that message (5 s on the Temporal example; at 3 s the
    #: search flagged that as a liveness violation).
    stuck_review_after_crash: float = 10.0
    #: The orchestrator's own call timeout, in seconds: how long it may wait on one call
    #: before it gives up or retries. An unfinished order counts as stuck once nothing of
    #: it moved for max(3 s, 2 x this), times the time scale (``quiet.quiet_period``), with
    #: every fault healed and the orchestrator answering: the settle phase ends then,
    #: instead of waiting out ``settle_seconds``. None: the one the orchestrator declares
    #: (``adapters.base.call_timeout``), the same the search draws its waits from.
    call_timeout: float | None = None
    check: CheckConfig = field(default_factory=CheckConfig)


@dataclass
class RunResult:
    seed: int
    plans: list[OrderPlan]
    schedule: Schedule
    history: History
    snapshot: Snapshot
    verdict: CheckResult
    nemesis: NemesisReport
    timings: dict[str, float]
    orchestrator: str
    replay_path: Path | None = None
    _summary: dict[str, Any] | None = field(default=None, repr=False)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __repr__(self) -> str:
        verdict = "consistent" if self.ok else f"{len(self.verdict.violations)} violation(s)"
        return f"<RunResult seed={self.seed} orders={len(self.plans)} faults={len(self.schedule)} {verdict}>"

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    @property
    def statuses(self) -> dict[str, str | None]:
        """Plain strings that remember their order, so a failed assertion on them names
        the order and tells its story (fracas.harness.report.assertion)."""
        from fracas.harness.report.assertion import statuses

        return dict(statuses(self))

    @property
    def summary(self) -> dict[str, Any]:
        """The resilience summary (docs/checkers.md §7), computed once."""
        if self._summary is None:
            from fracas.harness.checkers.summary import summarize

            self._summary = summarize(self.snapshot)
        return self._summary

    @property
    def retries(self) -> int:
        """Requests beyond the first for the same order and step: evidence that the
        faults really got in the orchestrator's way."""
        steps = self.summary.get("steps") or []
        return sum(
            int(s.get("retries_same_key", 0)) + int(s.get("new_key_attempts", 0)) for s in steps
        )

    @property
    def in_flight_during_faults(self) -> int:
        """Orders submitted before some fault healed and finished after it was applied:
        the fault window overlapped their life, so a pass is not vacuous. (A refused
        connection never reaches a fake's journal; the history still shows the overlap.)"""
        windows = [(w.applied_t, w.healed_t) for w in self.history.faults()]
        if not windows:
            return 0
        submitted = self.history.submit_times()
        finished = self.history.terminal_times()
        count = 0
        for oid, t_sub in submitted.items():
            t_end = finished.get(oid, float("inf"))
            if any(
                t_sub <= (healed if healed is not None else float("inf")) and t_end > applied
                for applied, healed in windows
            ):
                count += 1
        return count

    @property
    def entry_hits(self) -> dict[int, int]:
        """Schedule entry index -> requests (or process events) its fault acted on, for
        every family (harness/model/coverage.py says what counts as a hit)."""
        return entry_hits(self.history, self.schedule)

    @property
    def vacuous(self) -> list[str]:
        """One line per schedule entry that did nothing (and did not say it may not)."""
        hits = self.entry_hits
        never = set(self.nemesis.never_triggered)
        out: list[str] = []
        for i, spec in enumerate(self.schedule.faults):
            if spec.may_not_fire or i in self.nemesis.errors:
                continue
            label = describe_fault(spec.fault)
            if i in never:
                trigger = spec.when.describe() if spec.when else "its trigger"
                out.append(f"faults[{i}] ({label}): the trigger never fired ({trigger})")
            elif hits.get(i, 0) == 0:
                out.append(f"faults[{i}] ({label}): hit no request while orders were in flight")
        return out

    def fired(self, kind: str | None = None, service: str | None = None) -> int:
        """How many requests (or process events) the schedule's faults of ``kind`` on
        ``service`` acted on, every family counted, so a scenario can prove its fault
        really happened rather than pass vacuously."""
        hits = self.entry_hits
        return sum(
            hits.get(i, 0)
            for i, spec in enumerate(self.schedule.faults)
            if (kind is None or spec.fault.get("kind") == kind)
            and (service is None or spec.fault.get("target") == service)
        )

    def replay_json(self) -> dict[str, Any]:
        """Everything needed to run the same orders and schedule again (data only)."""
        return {
            "fracas_replay": REPLAY_VERSION,
            "seed": self.seed,
            "orders": [p.to_json() for p in self.plans],
            "schedule": self.schedule.to_json(),
            "settle_seconds": self.history.meta.get("settle_seconds"),
            "violations": sorted({(v.rule, v.order_id or "") for v in self.verdict.violations}),
            # what it ran against (harness/run/provenance.py replay_context)
            **self.history.meta.get("replay_context", {}),
        }

    def write_replay(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.replay_json(), indent=2, sort_keys=True))
        return path

    def failure_text(self) -> str:
        """The witness first, then how to run the same thing again."""
        text = failure_text(self)
        if self.ok:
            return text
        lines = [text, "", f"seed: {self.seed}"]
        if self.replay_path is not None:
            from fracas.harness.kit.invocation import fracas_command

            lines.append(f"replay: {fracas_command()} replay {self.replay_path}")
        if self.nemesis.never_triggered:
            lines.append(f"faults whose trigger never fired: {self.nemesis.never_triggered}")
        return "\n".join(lines)

    def assert_consistent(self) -> RunResult:
        """Raise ConsistencyError (an AssertionError) leading with the witness; then
        VacuousRunError when a scheduled fault did nothing."""
        __tracebackhide__ = True  # the scenario's line is the one to show
        if not self.ok:
            raise ConsistencyError(self.verdict, self.failure_text())
        vacuous = self.vacuous
        if vacuous:
            raise VacuousRunError(vacuous)
        return self


def run(
    topo: Topology,
    plans: Sequence[OrderPlan],
    schedule: Schedule | dict[str, Any] | list[Any] | None = None,
    options: RunOptions | None = None,
    seed: int | None = None,
    reset: bool = True,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    opts, sched = _resolve(topo, schedule, options)
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    t = time.monotonic()
    if reset:
        timings["reset"] = topo.reset(seed)
    timings["reset_total"] = time.monotonic() - t
    history = History()
    history.meta.update(
        seed=topo.seed,
        settle_seconds=opts.settle_seconds,
        orders=len(plans),
        orchestrator=topo.orchestrator.description,
    )
    history.meta["replay_context"] = replay_context(topo)
    adapter = topo.orchestrator
    fakes = {n: f.url for n, f in topo.fakes.items()}
    client = RunClient(adapter, {p.order_id: p for p in plans}, history, fakes)
    nemesis = Nemesis(sched, topo.fault_context(), history, fakes, client=client)
    t = time.monotonic()
    nemesis.start()
    say(f"submitting {len(plans)} orders, {len(sched)} scheduled faults")
    _submit_all(adapter, plans, history, opts)
    timings["submit"] = time.monotonic() - t
    _require_orchestrator(adapter, plans, history)
    follow = _Follower(adapter, history, {p.order_id: p for p in plans}, movement=Movement(fakes),
                       hands_off=client.deciding, jumped=client.jumped)  # fmt: skip
    still = _drive(follow, opts, nemesis, say)
    timings["workload"] = time.monotonic() - t
    report = nemesis.finish()
    follow.hands_off = lambda oid: False  # every input sent or given up: answer the rest
    topo.ensure_running()  # a heal that did not bring a process back is caught here
    if report.errors:
        follow.movement.close()
        raise NemesisError(report.errors)
    heal_t = time.monotonic()
    say("faults healed; settling")
    _settle(follow, opts, still, topo.broker)
    reported = follow.reported
    history.meta.update(left_in_fakes=_drain(fakes, heal_t, opts), **topo.restarts_since(history.t0))
    timings["settle"] = time.monotonic() - heal_t
    t = time.monotonic()
    ledgers = topo.ledgers()
    history.attach_journals(topo.journals())
    history.attach_messages(topo.messages())
    snapshot = Snapshot(
        ledgers=ledgers,
        orders={p.order_id: p.order for p in plans},
        intents={p.order_id: p.intent for p in plans},
        reported=reported,
        history=history,
        settle=Settle(
            settle_seconds=scaled(opts.settle_seconds),  # liveness allows what settling waited
            last_heal_t=history.last_heal_t(),
            terminal_t=history.terminal_times(),
            submitted_t=history.submit_times(),
        ),
    )
    verdict = check(snapshot, opts.check)
    timings["check"] = time.monotonic() - t
    return RunResult(
        seed=topo.seed,
        plans=list(plans),
        schedule=sched,
        history=history,
        snapshot=snapshot,
        verdict=verdict,
        nemesis=report,
        timings=timings,
        orchestrator=adapter.name,
    )


def _resolve(
    topo: Topology,
    schedule: Schedule | dict[str, Any] | list[Any] | None,
    options: RunOptions | None,
) -> tuple[RunOptions, Schedule]:
    """The options as this run applies them: the orchestrator's own call timeout unless
    one was given, and ``stuck_review_after_crash`` when the schedule kills or restarts
    the orchestrator (a kind that ``kills``: a hybrid's ``message_publish_crash`` too).
    Resolved before anything starts, so a bad schedule costs nothing."""
    opts = options or RunOptions()
    if opts.call_timeout is None:
        opts = replace(opts, call_timeout=call_timeout(topo.orchestrator))
    sched = schedule if isinstance(schedule, Schedule) else parse_schedule(schedule or [])
    backend = topo.backend
    refused = refusal([f.fault for f in sched.faults], backend.reads_nats, backend.name)
    if refused is not None:
        raise ScheduleError(refused)
    kinds = fault_kinds()
    if any(
        f.fault.get("target") == "orchestrator"
        and getattr(kinds.get(str(f.fault.get("kind"))), "kills", False)
        for f in sched.faults
    ):
        opts = replace(opts, stuck_review_after=max(opts.stuck_review_after,
                                                   opts.stuck_review_after_crash))  # fmt: skip
    return opts, sched


#: Seconds at most the broker is given to deliver what it still owes once every order
#: ended: a few ack waits (2 s under test), for the redelivery of a lost ack.
BROKER_SETTLE = 15.0
#: Seconds an accepted order must stay 404 (orchestrator up, faults healed) to be lost.
LOST_AFTER = 2.0
#: Seconds every order must show no movement after all of them reported an end, before
#: the workload phase gives up on a trigger still waiting: an orchestrator may report an
#: order failed and then undo its steps (the refund after the status was saved), and a
#: trigger on that refund, healed the moment the status read "failed", fired on 3
#: replays of 5. The calls of such work follow at once; a poll or two of quiet covers them.
ENDED_QUIET = 0.5


def _all_done(
    follow: _Follower,
    accepted: set[str],
    now: float,
    stuck_review_after: float = 3.0,
    quiet: float | None = None,
) -> bool:
    """Every order terminal, lost, stuck in a review that should have timed out, or (with
    ``quiet``) still for that long (see ``_settle``)."""
    for oid in follow.by_id:
        if quiet is not None and follow.stuck(oid, now, quiet):
            continue
        if (follow.reported.get(oid) or {}).get("status") in TERMINAL_STATUSES:
            continue
        since = follow.missing_since.get(oid)
        if oid in accepted and since is not None and now - since >= scaled(LOST_AFTER):
            continue
        stuck = follow.stuck_review_since.get(oid)
        if stuck is not None and now - stuck >= stuck_review_after:
            continue
        return False
    return True


# -- workload ------------------------------------------------------------------------
def _submit_all(
    adapter: OrchestratorAdapter, plans: Sequence[OrderPlan], history: History, opts: RunOptions
) -> None:
    """Submit every order; an order without an answer is sent again (POST /orders is
    idempotent on order_id) until it is accepted or refused, or the deadline passes."""
    deadline = time.monotonic() + scaled(opts.submit_deadline)
    answered = [threading.Event() for _ in plans]

    def submit(i: int) -> None:
        if i:
            answered[i - 1].wait(scaled(opts.submit_gap))
        try:
            _submit_one(i, plans[i])
        finally:
            answered[i].set()  # after its answer is recorded, or an error

    def _submit_one(i: int, plan: OrderPlan) -> None:
        delay = 0.02
        while True:
            op = history.invoke(SUBMIT, plan.order_id, order=plan.order)
            res = adapter.submit(plan.order)
            if res.accepted:
                op.ok(status_code=res.status_code, status=res.body.get("status"))
                return
            if res.status_code is not None and res.status_code < 500:
                op.fail(status_code=res.status_code, body=res.body)
                return
            op.unknown(status_code=res.status_code, error=res.error)
            answered[i].set()  # no answer: the next order goes while this one retries
            if time.monotonic() >= deadline:
                return
            time.sleep(delay)  # back-off between retries of a real client, not a sync
            delay = min(delay * 2, 0.5)

    with ThreadPoolExecutor(max(1, min(opts.concurrency, len(plans) or 1))) as pool:
        list(pool.map(submit, range(len(plans))))  # started in order: no wait on a later one


def _require_orchestrator(
    adapter: OrchestratorAdapter, plans: Sequence[OrderPlan], history: History
) -> None:
    """POST /orders never answers 404 or 405 under the contract (§2): when every order
    was refused so, the URL is not the orchestrator's, and waiting out the settle time to
    call the run consistent would be a lie."""
    codes = [
        op.completion.data.get("status_code")
        for op in history.ops()
        if op.op == SUBMIT and op.completion is not None
    ]
    if plans and codes and all(c in (404, 405) for c in codes):
        raise NotAnOrchestratorError(
            f"every POST /orders to {adapter.url} was answered "
            f"{sorted({c for c in codes if isinstance(c, int)})}: that is not the orchestrator (did another process take "
            "its port?), so this run has no verdict"
        )


@dataclass
class _Follower:
    """The client's view of the orders across both phases (workload, then settle): what
    each order last reported, what was seen, and which reviews were answered."""

    adapter: OrchestratorAdapter
    history: History
    by_id: dict[str, OrderPlan]
    reported: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    last: dict[str, str | None] = field(default_factory=dict)
    reviewed: set[str] = field(default_factory=set)
    #: Orders that answered 404 on their last read, and since when (reset on any answer).
    missing_since: dict[str, float] = field(default_factory=dict)
    #: Orders to time out in review, still awaiting review, and since when the clock has
    #: been past every review timeout (reset when the order moves or a jump fails).
    stuck_review_since: dict[str, float] = field(default_factory=dict)
    #: When each order last moved (status, journal line, held request): see ``stuck``.
    movement: Movement = field(default_factory=lambda: Movement({}))
    #: Orders whose review a client fault decides (``RunClient.deciding``): left to it
    #: during the workload phase; the settle phase answers whatever still waits.
    hands_off: Callable[[str], bool] = field(default=lambda oid: False)
    #: When a client input jumped the clock past an order's review timeout, by order
    #: (``RunClient.jumped``): an order left to that input and still awaiting review is
    #: stuck in review from then, as after the harness's own jump. Unseen, a review
    #: timeout that never fires held the workload phase for the input's whole wait (20 s
    #: per failing run, three such runs per search).
    jumped: Mapping[str, float] = field(default_factory=dict)

    def stuck(self, order_id: str, now: float, quiet: float) -> bool:
        """Unfinished, the orchestrator answering for it, and nothing of it moved for
        ``quiet`` seconds. A review waiting on its timer is moving until the harness has
        jumped the clock past it (an orchestrator without a test clock times reviews out
        in real time, within the settle time)."""
        plan, body = self.by_id[order_id], self.reported.get(order_id)
        if body is None or self.last.get(order_id) == "<unreachable>":
            return False
        waiting_timer = body.get("status") == "awaiting_review" and plan.review == "timeout"
        if waiting_timer and order_id not in self.stuck_review_since:
            return False
        return self.movement.quiet(order_id, now, quiet)

    def ended_quiet(self, unfinished: set[str], now: float, period: float) -> bool:
        """Nothing of any order that reported its end (any not in ``unfinished``) moved
        for ``period`` seconds."""
        ended = set(self.by_id) - unfinished
        return all(self.movement.quiet(o, now, period) for o in ended)

    def past_review(self, after: float, now: float) -> set[str]:
        """Orders stuck in review for ``after`` seconds past a jump of the clock."""
        return {o for o, since in self.stuck_review_since.items() if now - since >= after}

    def unfinished(self) -> set[str]:
        return {
            o
            for o in self.by_id
            if (self.reported.get(o) or {}).get("status") not in TERMINAL_STATUSES
        }

    def all_terminal(
        self, stuck_review_after: float | None = None, gone_after: float | None = None
    ) -> bool:
        """Every order terminal; with ``stuck_review_after``, an order stuck that long in a
        review that should have timed out counts too: its steps before the review are
        done and the rest wait on a timeout that did not fire, so no trigger waits on it
        and the settle phase (faults healed) gives it its own grace again. Likewise with
        ``gone_after``, an order the orchestrator has answered 404 for that long: one it
        forgot (a crash of an orchestrator that kept it in memory) takes no more steps,
        and a trigger on a later step would otherwise hold the workload phase open for
        its whole time limit (120 s per failing example, measured). Whether it is lost
        is the settle phase's to judge, with every fault healed."""
        now = time.monotonic()
        for o in self.by_id:
            if (self.reported.get(o) or {}).get("status") in TERMINAL_STATUSES:
                continue
            gone = self.missing_since.get(o)
            if gone_after is not None and gone is not None and now - gone >= gone_after:
                continue
            stuck = self.stuck_review_since.get(o)
            if stuck_review_after is not None and stuck is not None:
                if now - stuck >= stuck_review_after:
                    continue
            return False
        return True

    def read(self, order_id: str) -> dict[str, Any] | None:
        """Read one order's status; record it in the history when it changed."""
        try:
            body = self.adapter.status(order_id)
        except AdapterError as exc:  # the orchestrator may be down, or broke the contract
            if self.last.get(order_id, "") != "<unreachable>":
                op = self.history.invoke(STATUS, order_id)
                op.unknown(error=f"{type(exc).__name__}: {exc}")
                self.last[order_id] = "<unreachable>"
            return None
        if body is None:
            self.missing_since.setdefault(order_id, time.monotonic())
        else:
            self.missing_since.pop(order_id, None)
        status = None if body is None else body.get("status")
        if self.last.get(order_id, "") != status:
            self.movement.moved(order_id)
            op = self.history.invoke(STATUS, order_id)
            if body is None:
                op.fail(status_code=404)
            else:
                op.ok(**body)
            self.last[order_id] = status
        return body

    def poll_round(self) -> None:
        """Read every unfinished order once; answer reviews as each order's plan says."""
        adapter, history = self.adapter, self.history
        waiting_timeout: list[str] = []
        for oid, plan in self.by_id.items():
            if (self.reported.get(oid) or {}).get("status") in TERMINAL_STATUSES:
                continue
            body = self.read(oid)
            if body is None:
                continue
            self.reported[oid] = body
            if body.get("status") != "awaiting_review":
                self.stuck_review_since.pop(oid, None)
                continue
            if self.hands_off(oid):
                if plan.review == "timeout" and oid in self.jumped:
                    self.stuck_review_since.setdefault(oid, self.jumped[oid])
                continue  # its input decides (or lets the timeout fire), not us
            decision = plan.review or "approve"
            if decision == "timeout":
                waiting_timeout.append(oid)
            elif oid not in self.reviewed:
                op = history.invoke(REVIEW, oid, decision=decision)
                try:
                    answer = adapter.review(oid, decision)
                except AdapterError as exc:
                    op.unknown(error=f"{type(exc).__name__}: {exc}")
                    continue
                code = answer.status_code
                (op.ok if code == 200 else op.fail)(status_code=code, body=answer.body)
                if code == 200:
                    self.reviewed.add(oid)
        if waiting_timeout and "advance_clock" in adapter.capabilities:
            others = [
                o
                for o, b in self.reported.items()
                if (b or {}).get("status") == "awaiting_review" and o not in waiting_timeout
            ]
            if not others:
                op = history.invoke(
                    "advance_clock", None, seconds=REVIEW_TIMEOUT_JUMP, orders=waiting_timeout
                )
                try:
                    adapter.advance_clock(REVIEW_TIMEOUT_JUMP)
                    op.ok()
                except AdapterError as exc:
                    op.unknown(error=str(exc))
                    for oid in waiting_timeout:
                        self.stuck_review_since.pop(oid, None)
                else:
                    now = time.monotonic()
                    for oid in waiting_timeout:
                        self.stuck_review_since.setdefault(oid, now)


def _drive(
    follow: _Follower, opts: RunOptions, nemesis: Nemesis, say: Callable[[str], None]
) -> set[str]:
    """Answer reviews and follow statuses until the nemesis is done with its schedule.
    Returns the orders it ended on as still (see the quiet exit below), else none."""
    deadline = time.monotonic() + scaled(opts.workload_seconds)
    quiet = quiet_period(opts.call_timeout or DEFAULT_CALL_TIMEOUT)
    unblocked: float | None = None
    while True:
        # Read before the heal time (and a fault due, before what is applied): a heal
        # between the reads (the polls and journal reads below take long under load) found
        # nothing blocking and the order's clock not restarted, and called an order held
        # for the whole period still (CI; 3 runs in 29 with both cores busy).
        waiting = nemesis.waiting_on_time
        blocking = nemesis.blocking
        follow.poll_round()
        now = time.monotonic()
        unfinished = follow.unfinished()
        if nemesis.unblocked_at != unblocked and nemesis.unblocked_at is not None:
            # A partition or a process down just healed: an order still since before it
            # was held, not stuck; its quiet period starts now, as after the last heal.
            unblocked = nemesis.unblocked_at
            follow.movement.restart_clock(unfinished, unblocked)
        follow.movement.look(set(follow.by_id), now)  # ended orders may still be worked on
        all_terminal = follow.all_terminal(opts.stuck_review_after, scaled(LOST_AFTER))
        over = follow.past_review(opts.stuck_review_after, now)
        if over and nemesis.client is not None:
            nemesis.client.give_up(over)  # an input waiting on that timeout waits no more
        if not nemesis.pending and (all_terminal or not nemesis.lasting):
            return set()
        if all_terminal and not waiting and follow.ended_quiet(
                unfinished, now, scaled(ENDED_QUIET)):  # fmt: skip
            return set()  # an event trigger can no longer fire
        # With every order ended, "all still" held of none and ended the phase at once,
        # before the wait for ended orders above (a trigger on fail-first's refund
        # after its "failed" fired 3 runs in 5, under load 1 in 4).
        if (
            unfinished
            and not blocking
            and not waiting
            and all(follow.stuck(o, now, quiet) for o in unfinished)
        ):
            say(f"workload phase ended: no fault holding orders back and no order moved "
                f"for {quiet:g}s")
            if nemesis.client is not None:
                nemesis.client.give_up(unfinished)
            # A trigger on a later step of one would wait for nothing. An order left to an
            # input that never came is still for want of a decision the settle phase makes.
            return {o for o in unfinished if not follow.hands_off(o)}
        if time.monotonic() >= deadline:
            say(f"workload phase ended after {opts.workload_seconds:g}s with faults pending")
            return set()
        time.sleep(opts.poll_interval)  # polling period of the client, not a sync


def _drain(urls: dict[str, str], heal_t: float, opts: RunOptions) -> list[dict[str, Any]]:
    """A late commit lands now or never: before the ledgers are read, wait out the
    requests the fakes are still serving (``drain.py``), until the settle time is up
    but at least a quiet period, the longest a correct orchestrator's call may take."""
    quiet = quiet_period(opts.call_timeout or DEFAULT_CALL_TIMEOUT)
    return wait_for_fakes(urls, max(heal_t + scaled(opts.settle_seconds),
                                    time.monotonic() + quiet))  # fmt: skip


def _settle(follow: _Follower, opts: RunOptions, still: Collection[str] = (),
            broker: BrokerSide | None = None) -> None:  # fmt: skip
    """Follow every order until all are terminal or lost, or the settle time runs out.

    Lost: accepted (POST /orders answered 2xx), yet the orchestrator, up and with every
    fault healed, has answered 404 for it for ``LOST_AFTER`` seconds. Under the contract
    an accepted order is never unknown again (its state survives a crash), so it cannot
    become terminal; liveness flags it whatever the settle time, and waiting out the rest
    of the settle time would only make every such failing example, and its shrinking,
    cost the whole settle time.

    Stuck in review: an order meant to time out in review, still awaiting review
    ``stuck_review_after`` seconds after the harness (faults healed) jumped the
    orchestrator's clock 30 days ahead, past any review timeout. Its deadline has passed
    on the only clock that counts, so nothing more is coming; liveness flags it, and the
    search for a review timeout that never fires costs seconds, not the settle time.

    Still: unfinished, the orchestrator answering, and nothing of the order moved (no
    status change, no journal line, no held request) for the quiet period,
    max(3 s, 2 x ``call_timeout``) scaled (``quiet.py``). A correct orchestrator moves
    again within its call timeout; one that resumes nothing after a restart never does,
    and liveness flags it seconds after it went still, not after the settle time.

    Quiescence (the contract checks the ledgers after it): every order that reported
    its end has shown no movement for ``ENDED_QUIET``. An orchestrator may report an
    order failed and then undo its steps; read while its refund waited out a retry
    after a reset, the ledgers showed a failed order still charged, a case that failed
    twice while shrinking and replayed 2 times in 5.

    ``still``: orders the workload phase ended on as still for the quiet period with no
    fault that holds an order back (``Nemesis.blocking``) active. Healing took away only
    what was lying in wait for them (HTTP rules, triggers, inputs), nothing that held
    them, so their quiet period runs on from before the heal, not again from it: a
    stuck order's example waited it out twice (10 s more at a 5 s call timeout, twice
    per shrink step)."""
    deadline = time.monotonic() + scaled(opts.settle_seconds)
    quiet = quiet_period(opts.call_timeout or DEFAULT_CALL_TIMEOUT)
    # quiet since the heal, but for what was already still with nothing holding it (an
    # ended order's clock runs on: it shows whether it is still being worked on)
    follow.movement.restart_clock(follow.unfinished() - set(still), time.monotonic())
    follow.missing_since.clear()  # only 404s seen with every fault healed count
    follow.stuck_review_since.clear()  # likewise only jumps made with every fault healed
    accepted = {
        op.order_id
        for op in follow.history.ops()
        if op.op == SUBMIT and op.outcome == "ok" and op.order_id is not None
    }
    try:
        while True:
            follow.poll_round()
            now = time.monotonic()
            follow.movement.look(set(follow.by_id), now)
            if now >= deadline or (
                _all_done(follow, accepted, now, opts.stuck_review_after, quiet)
                and follow.ended_quiet(follow.unfinished(), now, scaled(ENDED_QUIET))
            ):
                break
            time.sleep(opts.poll_interval)
    finally:
        follow.movement.close()
    # One last read of every order, so `reported` is what the orchestrator says now.
    for oid in follow.by_id:
        body = follow.read(oid)
        if body is not None or oid not in follow.reported:
            follow.reported[oid] = body
    # A hybrid's orders end before what follows them downstream: the end events still in
    # its outbox, and their deliveries, act before anyone reads the ledgers.
    downstream = getattr(follow.adapter, "wait_downstream", None)
    if downstream is not None:
        downstream(min(scaled(opts.settle_seconds), scaled(BROKER_SETTLE)))
    if broker is not None:  # a redelivery still owed acts after every order ended
        broker.wait_settled(min(scaled(opts.settle_seconds), scaled(BROKER_SETTLE)))
