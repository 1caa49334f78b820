"""The engine of the stateful scenario: one live topology driven step by step.

A Hypothesis state machine (scenarios/test_stateful.py) calls these verbs as its rules:
submit an order, arm a fault on a step of the next order, crash or restart a process,
heal, answer a review, advance the clock, settle. Hypothesis has no async stateful
support, so each verb is synchronous: it acts, then waits (with a deadline, never a
sleep) for the condition that makes the next step deterministic, e.g. "the fault armed
on ord-0002's capture has fired". Faults are armed *before* the order they aim at is
submitted, so they land on the same step on every replay, however fast the
orchestrator is; that is what lets Hypothesis shrink a failure instead of calling it
flaky. ``settle`` heals everything, brings every process back, waits for the orders to
end and runs every checker; its RunResult leads with the witness like any other run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from fracas.fakes import contract
from fracas.fakes.world import build_world
from fracas.harness.adapters import AdapterError
from fracas.harness.checkers import Settle, Snapshot, check
from fracas.harness.faults.base import Fault
from fracas.harness.faults.http import add_rule, get_rules, held_requests, release_held, remove_rule
from fracas.harness.kit.timescale import scaled
from fracas.harness.kit.waiting import DeadlineExceeded, wait_until
from fracas.harness.model.history import REVIEW, TERMINAL_STATUSES, FaultHandle, History
from fracas.harness.model.steps import STEPS as STEPS_SERVED
from fracas.harness.report.text import ConsistencyError
from fracas.harness.run.client import ClientContext, RunClient
from fracas.harness.run.nemesis import NemesisReport
from fracas.harness.run.runner import (
    REVIEW_TIMEOUT_JUMP,
    RunOptions,
    RunResult,
    _Follower,
    _settle,
    _submit_all,
)
from fracas.harness.run.scenario import Fracas
from fracas.harness.run.schedule import RequestMatch, Schedule, ScheduledFault
from fracas.harness.run.topology import Topology
from fracas.harness.run.workload import OrderPlan, allowed_intents, make_order
from fracas.harness.search import inputs


def _landing_steps() -> tuple[tuple[str, str, str], ...]:
    """The saga steps a fault can land on: (service, method, path) of each effect some
    intent reaches, happy path first so shrinking goes toward the capture, then the
    compensations in the order of the steps they undo."""
    reached = {step for i in contract.INTENTS for step in i.reaches}
    undoes = contract.compensations()
    effects = [s for s in contract.SAGA if s in reached and s in contract.effect_steps()]
    forward = [s for s in effects if s not in undoes]
    back = sorted((s for s in effects if s in undoes), key=lambda s: effects.index(undoes[s]))
    where = {step: (svc, method, path) for step, svc, method, path in STEPS_SERVED}
    return tuple(where[s] for s in (*forward, *back))


STEPS = _landing_steps()
PHASES = ("after_commit", "before_commit")  # after-commit first: the ambiguous outcomes
TRIGGER_PREFIX = "fracas-stateful-"
REST_STATUSES = TERMINAL_STATUSES | {"awaiting_review"}


def landing_faults(capabilities: frozenset[str], fakes: Sequence[str]) -> list[dict[str, Any]]:
    """Faults ``inject`` may arm, most telling first (shrinking goes toward the front).
    HTTP kinds take the step's own service as target; process faults on the orchestrator
    only where its capabilities allow them."""
    out: list[dict[str, Any]] = [
        {"kind": "drop", "target": "@step"},
    ]
    if "crash" in capabilities:
        out.append({"kind": "kill", "target": "orchestrator"})
    if "restart" in capabilities:
        out.append({"kind": "restart", "target": "orchestrator"})
    out += [
        {"kind": "status", "target": "@step", "params": {"status": 503, "retry_after": 0}},
        {"kind": "status", "target": "@step", "params": {"status": 500}},
        {"kind": "reset", "target": "@step"},
        {"kind": "malformed", "target": "@step", "params": {"shape": "truncated"}},
    ]
    for name in fakes:
        out += [
            {"kind": "kill", "target": name},
            {"kind": "restart", "target": name},
            {"kind": "down", "target": name},
            {"kind": "latency", "target": name, "params": {"latency_ms": 1500}},
        ]
    return out


@dataclass
class Landing:
    """A fault armed on a step of the next order: HTTP kinds are the step's own rule
    (pinned to the order, once); other kinds are applied when a hold rule parks the
    step's request, then the request goes on."""

    fault: dict[str, Any]
    step: tuple[str, str, str]
    phase: str
    order_id: str | None = None
    handle: FaultHandle | None = None
    fired: bool = False
    never: bool = False
    rule_id: str = ""  # the hold rule (or, for HTTP kinds, the fault's own rule id)

    @property
    def http(self) -> bool:
        return self.fault.get("target") == "@step" or Fault.from_json(self.fault).family == "http"

    @property
    def match(self) -> RequestMatch:
        service, method, path = self.step
        return RequestMatch(service, path, method, self.order_id, 1, self.phase)

    def bound(self, order_id: str, index: int) -> Fault:
        """The fault this landing applies, once it knows its order."""
        data = dict(self.fault)
        if data.get("target") == "@step":
            data["target"] = self.step[0]
        data.setdefault("id", f"{TRIGGER_PREFIX}f{index}-{data['kind']}-{data['target']}")
        if self.http:
            service, method, path = self.step
            params = dict(data.get("params") or {})
            params.update(path=path, method=method, order_id=order_id, phase=self.phase, times=1)
            data["params"] = params
            data["target"] = service
        return Fault.from_json(data)


@dataclass
class _Active:
    fault: Fault
    handle: FaultHandle
    entry: int  # index into the recorded schedule


@dataclass
class StatefulRun:
    """One example of the state machine: reset at construction, checked by ``settle``."""

    topo: Topology
    seed: int = 0
    max_orders: int = 4
    settle_seconds: float = 30.0
    step_timeout: float = 15.0
    #: A fault still active this long is healed (before the next step, and while a step
    #: waits): under the
    #: orchestrators' retry budgets (the bundled fast profile gives up after 5 s), so a
    #: correct one is never pushed into needs_attention by an outage with no end.
    max_fault_seconds: float = 4.0
    plans: list[OrderPlan] = field(default_factory=list)
    armed: list[Landing] = field(default_factory=list)
    active: list[_Active] = field(default_factory=list)
    schedule: list[ScheduledFault] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    dirty: bool = False

    def __post_init__(self) -> None:
        self.topo.reset(self.seed)
        self.history = History()
        self.history.meta.update(
            seed=self.topo.seed,
            settle_seconds=self.settle_seconds,
            stateful=True,
            orchestrator=self.topo.orchestrator.description,
        )
        self.adapter = self.topo.orchestrator
        self.ctx = self.topo.fault_context()
        self.follow = _Follower(self.adapter, self.history, {})
        self.world = build_world(self.seed)
        self._http = httpx.Client(timeout=scaled(5.0), trust_env=False)  # holds: slow under load
        self._faults = 0

    # -- what the rules may do -----------------------------------------------------
    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(self.adapter.capabilities)

    def up(self, target: str) -> bool:
        proc = self.ctx.process(target)
        return proc is None or (proc.alive and not proc.paused)

    @property
    def targets(self) -> tuple[str, ...]:
        """What ``crash`` may SIGKILL: every fake, and the orchestrator if it allows."""
        out = tuple(self.topo.fakes)
        return (*out, "orchestrator") if "crash" in self.capabilities else out

    def can_submit(self) -> bool:
        """Room for an order, the orchestrator up, and every armed step's fake up (a
        hold rule or an HTTP rule cannot be put on a fake that is down)."""
        return (
            len(self.plans) < self.max_orders
            and self.up("orchestrator")
            and all(self.up(a.step[0]) for a in self.armed)
        )

    # -- rules -----------------------------------------------------------------------
    def submit(self, intent: str) -> str:
        """Submit the next order with the faults armed for it, then wait until each has
        fired or the order has come to rest (a step it never took: noted, not a pass)."""
        self._expire()
        rng = random.Random(f"fracas-stateful:{self.seed}:{len(self.plans)}")
        plan = make_order(self.world, intent, len(self.plans) + 1, rng)
        oid = plan.order_id
        landings, self.armed = self.armed, []
        for landing in landings:
            landing.order_id = oid
            self._arm(landing)
        self.plans.append(plan)
        self.follow.by_id[oid] = plan
        self.steps.append(f"submit {oid} ({intent})")
        opts = RunOptions(submit_deadline=self.step_timeout)
        _submit_all(self.adapter, [plan], self.history, opts)
        self.dirty = True
        if landings:
            self._await_landings(oid, landings)
        elif not self.active:
            self._await_rest(oid)
        return oid

    def arm(self, fault: dict[str, Any], step: tuple[str, str, str], phase: str) -> None:
        """A fault that lands on `step` of the next submitted order (aimed at live work
        by construction: the step has not happened yet)."""
        probe = dict(fault)
        if probe.get("target") == "@step":
            probe["target"] = step[0]
        Fault.from_json(probe)  # a bad fault is a strategy bug: fail here, loudly
        self.armed.append(Landing(dict(fault), step, phase))
        where = f"{step[1]} {step[0]}{step[2]} {phase}"
        self.steps.append(f"arm {fault['kind']} {probe['target']} on the next order's {where}")

    def crash(self, target: str) -> None:
        """SIGKILL now; it stays down until ``restart`` or ``heal`` or ``settle``."""
        self._expire()
        self._apply_now(Fault.from_json({"kind": "kill", "target": target}))

    def restart(self, target: str) -> None:
        """Bring a crashed target back, or crash-and-restart a running one."""
        self._expire()
        for act in reversed(self.active):
            if act.fault.kind == "kill" and act.fault.target == target:
                self._heal(act, "restart")
                return
        self._apply_now(Fault.from_json({"kind": "restart", "target": target}))

    def heal(self) -> None:
        """Heal the most recent active fault."""
        if self.active:
            self._heal(self.active[-1], "heal")

    def review(self) -> None:
        """Answer one order awaiting review as its plan says, once it waits for one."""
        self._expire()
        todo = [p for p in self.plans if p.review in ("approve", "reject")]
        todo = [p for p in todo if p.order_id not in self.follow.reviewed]
        if not todo or not self.up("orchestrator"):
            return

        def awaiting() -> OrderPlan | None:
            self._expire()
            for plan in todo:
                body = self.follow.read(plan.order_id)
                if body is not None:
                    self.follow.reported[plan.order_id] = body
                    if body.get("status") == "awaiting_review":
                        return plan
            if all(self._at_rest(p.order_id) for p in todo):
                return None  # none of them will ask: nothing to answer
            return None

        try:
            plan = wait_until(awaiting, min(5.0, self.step_timeout), 0.02, "a review request")
        except DeadlineExceeded:
            return
        decision = plan.review or "approve"
        op = self.history.invoke(REVIEW, plan.order_id, decision=decision)
        try:
            answer = self.adapter.review(plan.order_id, decision)
        except AdapterError as exc:
            op.unknown(error=f"{type(exc).__name__}: {exc}")
            return
        code = answer.status_code
        (op.ok if code == 200 else op.fail)(status_code=code, body=answer.body)
        if code == 200:
            self.follow.reviewed.add(plan.order_id)
        self.steps.append(f"review {plan.order_id} {decision} -> {code}")

    def send_input(self, kind: str, order_index: int) -> None:
        """A client fault on an order already submitted (harness/faults/client.py): its
        inputs go now, and the step waits until they were answered and the order came
        to rest, so the next step meets the same state on every replay."""
        plan = self.plans[order_index % len(self.plans)]
        fault = Fault.from_json(
            {"kind": kind, "target": "orchestrator", "params": {"order_id": plan.order_id}}
        )
        entry = self._record(fault, None)
        urls = {name: fake.url for name, fake in self.topo.fakes.items()}
        client = RunClient(self.adapter, self.follow.by_id, self.history, urls, {fault.id: entry})
        handle = self.history.fault_applied(fault.to_json(), fault.target, index=entry)
        fault.apply(ClientContext(self.ctx, client))
        client.join()
        handle.healed(reason="inputs sent")
        self.steps.append(f"{kind} {plan.order_id}")
        self.dirty = True

    def advance_clock(self, seconds: float) -> None:
        op = self.history.invoke("advance_clock", None, seconds=seconds)
        try:
            self.adapter.advance_clock(seconds)
            op.ok()
        except AdapterError as exc:  # an answer we record, not a crash
            op.unknown(error=str(exc))
        self.steps.append(f"advance clock {seconds:g}s")

    def settle(self) -> RunResult:
        """Heal every fault, every process back, follow the orders to rest, check."""
        self.cleanup()
        t = time.monotonic()
        _settle(self.follow, RunOptions(settle_seconds=self.settle_seconds),
                broker=self.topo.broker)  # fmt: skip
        timings = {"settle": time.monotonic() - t}
        plans = list(self.plans)
        self.history.meta["orders"] = len(plans)
        self.history.attach_journals(self.topo.journals())
        snapshot = Snapshot(
            ledgers=self.topo.ledgers(),
            orders={p.order_id: p.order for p in plans},
            intents={p.order_id: p.intent for p in plans},
            reported=dict(self.follow.reported),
            history=self.history,
            settle=Settle(
                settle_seconds=self.settle_seconds,
                last_heal_t=self.history.last_heal_t(),
                terminal_t=self.history.terminal_times(),
                submitted_t=self.history.submit_times(),
            ),
        )
        verdict = check(snapshot)
        self.dirty = False
        self.steps.append("settle")
        return RunResult(
            seed=self.topo.seed,
            plans=plans,
            schedule=Schedule(tuple(self.schedule)),
            history=self.history,
            snapshot=snapshot,
            verdict=verdict,
            nemesis=self._report(),
            timings=timings,
            orchestrator=self.adapter.name,
        )

    def cleanup(self) -> None:
        """Every fault healed, every trigger gone, every process running."""
        for act in reversed(list(self.active)):
            self._heal(act, "settle")
        for landing in self.armed:  # armed for an order that never came
            self.history.note("fault-never-triggered", fault=landing.fault, trigger="next order")
        self.armed = []
        self.topo.ensure_running()

    def close(self) -> None:
        self._http.close()

    # -- faults ----------------------------------------------------------------------
    def _expire(self) -> None:
        now = time.time()
        for act in list(self.active):
            if now - act.handle.event.t >= self.max_fault_seconds:
                self._heal(act, f"after {self.max_fault_seconds:g}s")

    def _record(self, fault: Fault, when: RequestMatch | None, at: float | None = None) -> int:
        """The step as a schedule entry, for the replay file. An event trigger replays
        exactly; a fault applied now gets its time since the start (the history's clock,
        wall time, as every event's ``t``)."""
        if when is None and at is None:
            at = round(max(0.0, self.history.rel(time.time())), 3)
        self.schedule.append(ScheduledFault(fault.to_json(), at=at, when=when))
        return len(self.schedule) - 1

    def _apply_now(self, fault: Fault) -> None:
        if fault.family == "process" and not self.up(fault.target) and fault.kind == "kill":
            return
        fault.apply(self.ctx)
        entry = self._record(fault, None)
        handle = self.history.fault_applied(fault.to_json(), fault.target, index=entry)
        self.active.append(_Active(fault, handle, entry))
        self.steps.append(f"{fault.kind} {fault.target}")
        if fault.kind == "restart":  # over as soon as it is back
            self._heal(self.active[-1], "at once")
        self.dirty = True

    def _heal(self, act: _Active, reason: str) -> None:
        act.fault.heal(self.ctx)
        act.handle.healed(reason=reason)
        self.active.remove(act)
        spec = self.schedule[act.entry]
        applied = act.handle.event.t
        self.schedule[act.entry] = ScheduledFault(
            spec.fault, spec.at, spec.when, round(max(0.0, time.time() - applied), 3)
        )
        self.steps.append(f"heal {act.fault.kind} {act.fault.target} ({reason})")

    def _arm(self, landing: Landing) -> None:
        self._faults += 1
        fault = landing.bound(str(landing.order_id), self._faults)
        url = self.topo.admin_url(landing.step[0])
        if landing.http:
            landing.rule_id = fault.id
            fault.apply(self.ctx)
            # Pinned to its order, once: in place from the start replays the same.
            entry = self._record(fault, None, at=0.0)
            handle = self.history.fault_applied(fault.to_json(), fault.target, index=entry)
            landing.handle = handle
            self.active.append(_Active(fault, handle, entry))
        else:
            landing.rule_id = f"{TRIGGER_PREFIX}{self._faults}"
            rules, wrapped = get_rules(url)
            add_rule(url, landing.match.hold_rule(landing.rule_id), rules, wrapped)
            landing.fault = fault.to_json()

    def _await_landings(self, oid: str, landings: Sequence[Landing]) -> None:
        """Serve the hold triggers until every landing fired or the order is at rest."""

        def done() -> bool:
            self._expire()  # waiting must not turn a fault into an endless outage
            for landing in landings:
                if landing.fired or landing.never:
                    continue
                if landing.http:
                    landing.fired = self._rule_fired(landing)
                else:
                    self._serve_hold(landing)
            if all(a.fired or a.never for a in landings):
                return True
            if self._at_rest(oid):
                for landing in landings:
                    if not landing.fired:
                        landing.never = True
                        self.history.note(
                            "fault-never-triggered",
                            fault=landing.fault,
                            trigger=landing.match.describe(),
                        )
                return True
            return False

        try:
            wait_until(done, self.step_timeout, 0.01, f"the faults armed on {oid} to land")
        except DeadlineExceeded:
            pass  # the order is held up (by a fault that did land): the next step goes on
        for landing in landings:
            if not landing.http and not landing.fired:
                self._drop_hold(landing)

    def _await_rest(self, oid: str) -> None:
        """With no fault active, the order runs to rest before the next step, so what
        the next step meets does not depend on how fast the orchestrator is."""
        try:
            wait_until(lambda: self._at_rest(oid), self.step_timeout, 0.01, f"{oid} to rest")
        except DeadlineExceeded:
            pass  # a slow or stuck order is the checkers' business after settling

    def _rule_fired(self, landing: Landing) -> bool:
        try:
            rules, _ = self._rules_view(landing.step[0])
        except httpx.HTTPError:
            return False
        mine = [r for r in rules if r.get("id") == landing.rule_id]
        return not mine or int(mine[0].get("fired", 0)) > 0

    def _rules_view(self, service: str) -> tuple[list[dict[str, Any]], bool]:
        resp = self._http.get(f"{self.topo.admin_url(service)}/_fracas/faults")
        resp.raise_for_status()
        data = resp.json()
        return (data.get("rules") or [] if isinstance(data, dict) else data or []), True

    def _serve_hold(self, landing: Landing) -> None:
        service = landing.step[0]
        rule_id = landing.rule_id
        try:
            held = held_requests(self._http, self.topo.admin_url(service))
        except (httpx.HTTPError, ValueError):
            return
        for item in held:
            if item.get("rule_id") != rule_id:
                continue
            fault = Fault.from_json(landing.fault)
            trigger = {k: item.get(k) for k in ("method", "path", "order_id", "phase")}
            try:
                if not (fault.kind == "kill" and not self.up(fault.target)):
                    fault.apply(self.ctx)
                    entry = self._record(fault, landing.match)
                    handle = self.history.fault_applied(
                        fault.to_json(), fault.target, index=entry, trigger=trigger
                    )
                    landing.handle = handle
                    act = _Active(fault, handle, entry)
                    self.active.append(act)
                    self.steps.append(f"{fault.kind} {fault.target} {landing.match.describe()}")
                    if fault.kind == "restart":
                        self._heal(act, "at once")
            finally:
                landing.fired = True
                try:
                    release_held(self._http, self.topo.admin_url(service), item["id"])
                except httpx.HTTPError:
                    pass  # the fake went down with it (a kill of the step's own service)

    def _drop_hold(self, landing: Landing) -> None:
        url = self.topo.admin_url(landing.step[0])
        try:
            rules, wrapped = get_rules(url)
            if any(r.get("id") == landing.rule_id for r in rules):
                remove_rule(url, landing.rule_id, rules, wrapped)
        except httpx.HTTPError:
            pass  # a fake that is down has no rules

    def _at_rest(self, oid: str) -> bool:
        if not self.up("orchestrator"):
            return False
        body = self.follow.read(oid)
        if body is not None:
            self.follow.reported[oid] = body
        return (body or {}).get("status") in REST_STATUSES

    def _report(self) -> NemesisReport:
        report = NemesisReport()
        report.applied = list(range(len(self.schedule)))
        return report


# -- the state machine ---------------------------------------------------------------


CLIENT_KINDS = frozenset({*inputs.NEEDS, *inputs.IN_FLIGHT, "resubmit"})


def input_kinds(plan: OrderPlan, capabilities: frozenset[str]) -> list[str]:
    """The client kinds the stateful ``client_input`` rule may send this order: its
    decisions when it asks for review, else a decision it must refuse and its
    ``POST /orders`` again (the same body, or another)."""
    where = [("customer", p) for p in ("before_commit", "after_commit")]
    where += [("capture", "before_commit")]
    found = [k for step, phase in where for k in inputs.options(plan, step, phase, capabilities, None)]
    return sorted(set(found))


def machine_for(
    fracas: Fracas,
    settle_seconds: float = 30.0,
    max_orders: int = 4,
    fault_kinds: Collection[str] | None = None,
    crash_targets: Collection[str] | None = None,
) -> type[RuleBasedStateMachine]:
    """The Hypothesis state machine over ``fracas``'s topology. Its strategies depend on
    what this orchestrator can do, so the class is made per orchestrator.
    ``fault_kinds`` narrows what ``inject`` arms (empty: no inject rule) and
    ``crash_targets`` which processes are crashed or restarted (by the rules or an
    armed fault), to aim a search at one defect."""
    caps = frozenset(fracas.orchestrator.capabilities)
    choices = _armable(fracas, caps, fault_kinds, crash_targets)
    wants_inputs = fault_kinds is None or bool(set(fault_kinds) & CLIENT_KINDS)

    def hit(run: StatefulRun) -> list[str]:
        return [t for t in run.targets if crash_targets is None or t in crash_targets]

    class SagaMachine(_RunMachine):
        @precondition(lambda self: self.run.can_submit())
        @rule(intent=st.sampled_from(allowed_intents(caps)))
        def submit(self, intent: str) -> None:
            self.run.submit(intent)

        if choices:

            @precondition(lambda self: len(self.run.armed) < 2 and self.run.can_submit())
            @rule(
                fault=st.sampled_from(choices),
                step=st.sampled_from(STEPS),
                phase=st.sampled_from(PHASES),
            )
            def inject(self, fault: dict[str, Any], step: tuple[str, str, str], phase: str) -> None:
                self.run.arm(fault, step, phase)

        @precondition(lambda self: bool(self.run.plans))
        @rule(data=st.data())
        def crash(self, data: st.DataObject) -> None:
            up = [t for t in hit(self.run) if self.run.up(t)]
            if up:
                self.run.crash(data.draw(st.sampled_from(up), label="target"))

        @precondition(
            lambda self: bool(self.run.plans) and "restart" in caps and bool(hit(self.run))
        )
        @rule(data=st.data())
        def restart(self, data: st.DataObject) -> None:
            self.run.restart(data.draw(st.sampled_from(hit(self.run)), label="target"))

        @precondition(lambda self: "review" in caps and bool(self.run.plans))
        @rule()
        def review(self) -> None:
            self.run.review()

        @precondition(lambda self: wants_inputs and bool(self.run.plans)
                      and self.run.up("orchestrator"))  # fmt: skip
        @rule(data=st.data())
        def client_input(self, data: st.DataObject) -> None:
            """The orchestrator told something twice, late or changed (search/inputs.py)."""
            i = data.draw(st.integers(0, len(self.run.plans) - 1), label="order")
            kinds = _input_kinds(self.run.plans[i], caps, fault_kinds)
            if kinds:
                self.run.send_input(data.draw(st.sampled_from(kinds), label="input"), i)

        @precondition(lambda self: "advance_clock" in caps and self.run.up("orchestrator"))
        @rule(seconds=st.sampled_from((60.0, 3600.0, REVIEW_TIMEOUT_JUMP)))
        def advance_clock(self, seconds: float) -> None:
            self.run.advance_clock(seconds)

    SagaMachine.fracas = fracas
    SagaMachine.max_orders = max_orders
    SagaMachine.settle_seconds = settle_seconds
    return SagaMachine


def _input_kinds(
    plan: OrderPlan, caps: frozenset[str], fault_kinds: Collection[str] | None
) -> list[str]:
    """The client inputs this order can be sent; ``fault_kinds`` narrows these too."""
    return [k for k in input_kinds(plan, caps) if fault_kinds is None or k in fault_kinds]


def _armable(
    fracas: Fracas,
    caps: frozenset[str],
    fault_kinds: Collection[str] | None,
    crash_targets: Collection[str] | None,
) -> list[dict[str, Any]]:
    """The faults ``inject`` may arm: those that land on this orchestrator, narrowed to
    ``fault_kinds`` and, for a crash, to ``crash_targets``."""
    return [
        f
        for f in landing_faults(caps, tuple(fracas.topology.fakes))
        if (fault_kinds is None or f["kind"] in fault_kinds)
        and (
            crash_targets is None
            or f["kind"] not in ("kill", "restart", "pause")
            or f["target"] in crash_targets
        )
    ]


class _RunMachine(RuleBasedStateMachine):
    """What every saga machine does around its rules: drive one StatefulRun, check it at
    each settle and at the end, clean up. Hypothesis makes a machine without arguments, so
    ``machine_for`` sets the run's parameters on the class it makes."""

    fracas: ClassVar[Fracas]
    max_orders: ClassVar[int]
    settle_seconds: ClassVar[float]

    def __init__(self) -> None:
        super().__init__()
        self.run = StatefulRun(
            self.fracas.topology,
            seed=self.fracas.seed,
            max_orders=self.max_orders,
            settle_seconds=self.settle_seconds,
        )

    # The rules every orchestrator gets (Hypothesis collects inherited rules too); the
    # ones that depend on its capabilities are made in ``machine_for``.
    @precondition(lambda self: bool(self.run.active))
    @rule()
    def heal(self) -> None:
        self.run.heal()

    @precondition(lambda self: self.run.dirty)
    @rule()
    def settle(self) -> None:
        self._check()

    def _check(self) -> None:
        result = self.run.settle()
        self.fracas.keep(result)
        if not result.ok:
            text = result.failure_text() + "\nmachine steps: " + "; ".join(self.run.steps)
            raise ConsistencyError(result.verdict, text)

    def teardown(self) -> None:
        try:
            if self.run.plans and self.run.dirty:
                self._check()
        finally:
            self.run.cleanup()
            self.run.close()
