"""Hypothesis strategies for chaos runs: orders, faults, schedules, and both together.

They are values that compose: ``workloads()`` is built from ``order_plans()`` and
``schedules()``, and each of those from smaller pieces a scenario can reuse. Shrinking
goes toward fewer orders, happier orders, fewer faults and shorter faults, so a failure
is reported on the smallest run that still shows it.

Fault parameters are derived from each kind's ``params_spec`` in the catalog, so a new
fault kind is generated without touching this file; ``RANGES`` only narrows numbers to
values that make sense for a saga (a 10-minute latency teaches nothing).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from fracas.fakes import contract
from fracas.fakes.world import build_world
from fracas.harness.adapters.base import DEFAULT_CALL_TIMEOUT
from fracas.harness.faults import fault_kinds
from fracas.harness.faults.base import REQUIRED, Fault, FaultValidationError, Param
from fracas.harness.model.steps import STEPS
from fracas.harness.run.schedule import RequestMatch, Schedule, ScheduledFault
from fracas.harness.run.services import SERVICES
from fracas.harness.run.shape import shape_of
from fracas.harness.run.workload import INTENTS, OrderPlan, allowed_intents, make_order
from fracas.harness.search import inputs, messages
from fracas.harness.search.family import family, presence
from fracas.harness.search.messages import Choreography
from fracas.harness.search.plan import (
    CRASH_KINDS,
    MESSAGE_GROUPS,
    NOT_PLAIN_HTTP,
    PHASES,
    Cell,
    Pack,
    Planner,
    fits,
    groups_at,
    kinds_of,
    pack_cells,
    plain_http,
    plan_cells,
    share_of,
    tier_spans,
)
from fracas.harness.search.profiles import register_profiles

register_profiles()

PROCESS_TARGETS = (*SERVICES, "orchestrator")

#: (method, path pattern) of the calls an orchestrator makes to each fake.
ENDPOINTS: dict[str, tuple[tuple[str, str], ...]] = {n: contract.calls(n) for n in SERVICES}

#: Sensible numeric ranges per (kind, param); anything else uses the param's own bounds.
RANGES: dict[tuple[str, str], tuple[int, int]] = {
    ("latency", "latency_ms"): (0, 1500),
    ("latency", "jitter_ms"): (0, 200),
    ("jitter", "jitter_ms"): (1, 300),
    ("jitter", "latency_ms"): (0, 500),
    ("bandwidth", "rate_kbps"): (1, 200),
    ("delay", "ms"): (0, 2000),
    ("limit_data", "bytes"): (0, 2000),
    ("slicer", "average_size"): (8, 64),
    ("slicer", "size_variation"): (0, 7),  # below average_size, the kind's own rule
    ("slicer", "delay_us"): (0, 2000),
    ("slow_close", "delay_ms"): (0, 2000),
    ("timeout", "timeout_ms"): (0, 3000),
    ("reset_peer", "timeout_ms"): (0, 500),
    ("status", "status"): (500, 504),
    ("status", "retry_after"): (0, 2),
}
#: Params generation leaves out (they are match details a schedule sets itself).
LEFT_OUT = frozenset({"probability", "seed", "path", "method", "order_id", "nth", "times"})
#: How many seeds a workload draws its orders' Faker details (customer, items, address)
#: from: they are not the run's shape, so a wide range only gave the shrinker a number
#: to walk down, two runs a step, while the case stayed the same (issue 17).
DETAIL_SEEDS = 16


# -- orders --------------------------------------------------------------------------
@st.composite
def order_plans(
    draw: st.DrawFn,
    seed: int = 0,
    min_orders: int = 1,
    max_orders: int = 8,
    intents: Sequence[str] = INTENTS,
) -> list[OrderPlan]:
    """Orders from the seeded world; shrinks toward fewer orders and toward "ok"."""
    world = build_world(seed)
    chosen = draw(
        st.lists(st.sampled_from(list(intents)), min_size=min_orders, max_size=max_orders)
    )
    rng = random.Random(draw(st.integers(0, DETAIL_SEEDS - 1)))
    return [make_order(world, intent, i + 1, rng) for i, intent in enumerate(chosen)]


# -- faults --------------------------------------------------------------------------
def _param_strategy(kind: str, p: Param) -> st.SearchStrategy[Any] | None:
    if p.choices is not None:
        return st.sampled_from(p.choices)
    if p.type == "bool":
        return st.booleans()
    if p.type in ("int", "float"):
        lo, hi = RANGES.get(
            (kind, p.name),
            (
                int(p.minimum) if p.minimum is not None else 0,
                int(p.maximum) if p.maximum is not None else 1000,
            ),
        )
        return st.integers(lo, hi)
    if p.type == "str" and p.example is not None:
        return st.just(p.example)
    return None


@st.composite
def faults(
    draw: st.DrawFn,
    kinds: Sequence[str] | None = None,
    order_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """One fault's JSON over any kind in the catalog and any target it can hit."""
    registry = fault_kinds()
    # A message fault needs a broker and an event of the choreography to aim at: the
    # search draws those where there is one (search/messages.py), never here.
    names = sorted(k for k in (kinds or registry) if registry[k].family != "message")
    if not names:
        raise ValueError("faults(): message kinds are drawn by search/messages.py, "
                         "for a choreography; give kinds of another family")
    kind = draw(st.sampled_from(names))
    cls = registry[kind]
    family = cls.family
    target = draw(st.sampled_from(PROCESS_TARGETS if family == "process" else SERVICES))
    if family == "client":
        target = "orchestrator"  # its own inputs
    params: dict[str, Any] = {}
    for p in cls.params_spec:
        if p.name in LEFT_OUT:
            continue
        strat = _param_strategy(kind, p)
        if strat is None:
            continue
        if p.default is REQUIRED:
            params[p.name] = draw(strat)
        elif draw(st.booleans()):
            params[p.name] = draw(strat)
    if family == "http":
        method, path = draw(st.sampled_from(ENDPOINTS[target]))
        params.update(method=method, path=path, times=draw(st.integers(1, 3)))
        if len(order_ids) > 0 and draw(st.booleans()):
            params["order_id"] = draw(st.sampled_from(list(order_ids)))
    try:
        fault = Fault.from_json({"kind": kind, "target": target, "params": params})
    except FaultValidationError:
        reject()  # a rule spanning params (check_together) that RANGES did not foresee
    return fault.to_json()


@st.composite
def request_matches(draw: st.DrawFn, order_ids: Sequence[str] = ()) -> RequestMatch:
    """A request reaching a fake, for event triggers: a step of one order, or any."""
    service = draw(st.sampled_from([s for s in SERVICES if s != "crm"]))
    method, path = ENDPOINTS[service][0]
    order_id = draw(st.sampled_from(list(order_ids))) if order_ids else None
    phase = draw(PHASE)
    return RequestMatch(service, path, method, order_id, 1, phase)


@st.composite
def scheduled_faults(
    draw: st.DrawFn, order_ids: Sequence[str] = (), kinds: Sequence[str] | None = None
) -> ScheduledFault:
    """One entry: a fault, a trigger (time or event) and a duration that shrinks to 0."""
    fault = draw(faults(kinds, order_ids))
    duration = draw(st.integers(0, 2500)) / 1000
    if len(order_ids) > 0 and draw(st.booleans()):
        return ScheduledFault(fault, when=draw(request_matches(order_ids)), duration=duration)
    at = draw(st.integers(0, 1500)) / 1000
    return ScheduledFault(fault, at=at, duration=duration)


def schedules(
    order_ids: Sequence[str] = (), max_faults: int = 3, kinds: Sequence[str] | None = None
) -> st.SearchStrategy[Schedule]:
    """Schedules of up to `max_faults` entries; shrinks toward none."""
    return st.lists(scheduled_faults(order_ids, kinds), max_size=max_faults).map(
        lambda items: Schedule(tuple(items))
    )


# -- faults aimed at live work ---------------------------------------------------------
#: Steps (fracas.harness.model.steps.STEPS names) an order of each intent reaches when
#: nothing goes wrong (the contract's ``Intent.reaches``), in call order, but the quote.
#: Every order reads its customer first: the CRM call carries no order id, so a fault on
#: it is aimed by the path (the order's own customer id). A quote need not carry one
#: either (the contract lets an orchestrator ask for one without it; the naive one
#: does), so it is not aimed at (``UNAIMED``). Every failure after the customer read ends
#: with an ``order_failed`` message (the contract's step 6), so a failing order reaches
#: the notify step too: a lost or garbled answer to that message is as telling as one to
#: a confirmation. An undeliverable address is quoted (any country is) and refused only
#: at the shipment, after the capture and the reservation.
UNAIMED = frozenset({"quote"})
REACHES: dict[str, tuple[str, ...]] = {
    i.name: tuple(s for s in i.reaches if s not in UNAIMED) for i in contract.INTENTS
}
_STEP = {name: (svc, meth, path) for name, svc, meth, path in STEPS}
PHASE = st.sampled_from(PHASES)
#: What each process fault on the orchestrator needs the adapter to do.
PROCESS_NEEDS: dict[str, frozenset[str]] = {
    "kill": frozenset({"crash", "restart"}),
    "restart": frozenset({"restart"}),
    "pause": frozenset({"pause"}),
}
#: The capabilities of an orchestrator that can do everything (the bundled one).
ALL_CAPABILITIES = frozenset({"crash", "restart", "pause", "review", "advance_clock"})


def _crash_ok(capabilities: frozenset[str], kinds: Sequence[str] | None) -> bool:
    return PROCESS_NEEDS["kill"] <= capabilities and "kill" in kinds_of("process", kinds)


def _past(ms: int) -> int:
    """The furthest a drawn wait goes (ms): half again the call timeout ``ms``. Past it
    is what matters, how far past much less, and an example lasts about as long as its
    longest fault: drawn up to 2.5 times the timeout (partitions, a ``timeout`` toxic)
    and twice it (pauses, late commits), a pack's example took 8 to 10 s at a 5 s call
    timeout, and a defect that one cell of the plan reaches was found at its ninth."""
    return ms * 3 // 2


def _time_range(kind: str, name: str, call_timeout: float) -> tuple[int, int] | None:
    """Waits at the orchestrator's own scale, up to and past its call timeout: one
    that always stops below it never shows what the client does once it gives up."""
    ms = max(1, int(call_timeout * 1000))
    return {
        ("latency", "latency_ms"): (0, _past(ms)),
        ("timeout", "timeout_ms"): (0, _past(ms)),
        ("slow_close", "delay_ms"): (0, _past(ms)),
    }.get((kind, name))


def _params(draw: st.DrawFn, kind: str, call_timeout: float) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for p in fault_kinds()[kind].params_spec:
        if p.name in LEFT_OUT or p.name == "phase":
            continue
        if (kind, p.name) == ("status", "status"):
            params["status"] = draw(st.sampled_from((500, 502, 503, 504)))
            continue
        span = _time_range(kind, p.name, call_timeout)
        strat = st.integers(*span) if span is not None else _param_strategy(kind, p)
        if strat is None:
            continue
        if p.default is REQUIRED or draw(st.booleans()):
            params[p.name] = draw(strat)
    return params


def _fault(kind: str, target: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        return Fault.from_json({"kind": kind, "target": target, "params": params}).to_json()
    except FaultValidationError:
        reject()  # a rule spanning params (check_together) that RANGES did not foresee


@dataclass(frozen=True)
class _Aim:
    """What every aimed fault of one workload is drawn within."""

    capabilities: frozenset[str]
    kinds: Sequence[str] | None
    down_fakes: frozenset[str]
    call_timeout: float
    choreography: Choreography | None = None


def _aim_pairs(plans: Sequence[OrderPlan], step: str | None) -> list[tuple[OrderPlan, str]]:
    """(order, step) pairs a fault may aim at, every step of every order alike. The
    customer read makes no effect and carries no order id: it is aimed at on the first
    order and on orders that reach nothing else."""
    return [
        (plan, s)
        for i, plan in enumerate(plans)
        for steps in [REACHES.get(plan.intent, ())]
        for s in steps
        if (s != "customer" or i == 0 or len(steps) == 1) and step in (None, s)
    ]


def _prefer(options: Sequence[str], kind: str | None) -> list[str]:
    """Just the cell's kind (plan.spread_kinds) when it is one of ``options`` here."""
    return [kind] if kind is not None and kind in options else list(options)


def _http_rule(
    draw: st.DrawFn, plan: OrderPlan, step: str, phase: str, aim: _Aim, prefer: str | None
) -> ScheduledFault:
    """An HTTP rule on this order's request of the step, in place from the start."""
    service, method, path = _STEP[step]
    kind = draw(st.sampled_from(_prefer(plain_http(aim.kinds), prefer)))
    params = _params(draw, kind, aim.call_timeout)
    # Up to 3 in a row: a retry budget that gives up early shows only then.
    params.update(method=method, path=path, phase=phase, times=draw(st.integers(1, 3)))
    _aim_rule(params, plan, step)
    return ScheduledFault(_fault(kind, service, params), at=0.0)


def _aim_rule(params: dict[str, Any], plan: OrderPlan, step: str) -> None:
    if step == "customer":
        # No order id on the CRM read: a rule on this order's customer's path aims it.
        params["path"] = f"/customers/{plan.order['customer_id']}"
    else:
        params["order_id"] = plan.order_id


def _late_commit(draw: st.DrawFn, plan: OrderPlan, step: str, aim: _Aim) -> ScheduledFault:
    """The request waits past the client's call timeout, then commits: the effect lands
    after the orchestrator decided it did not (the classic payment incident). Once, so
    a retry goes through; past the timeout by a quarter to a half (``_past``), which
    bounds what each such example costs."""
    service, method, path = _STEP[step]
    ms = max(1, int(aim.call_timeout * 1000))
    params = {"ms": draw(st.integers(ms * 5 // 4 + 1, _past(ms) + 1)), "method": method,
              "path": path, "phase": "before_commit", "times": 1}  # fmt: skip
    _aim_rule(params, plan, step)
    return ScheduledFault(_fault("delay", service, params), at=0.0)


def _network_fault(
    draw: st.DrawFn, plan: OrderPlan, step: str, when: RequestMatch, aim: _Aim,
    prefer: str | None,
) -> ScheduledFault:
    """A network fault from this request on, on a fake this order calls from then on
    (one only other orders were calling hit them or not by how far each had got, and
    could not shrink or replay), for a window up to past the call timeout."""
    kind = draw(st.sampled_from(_prefer(kinds_of("network", aim.kinds), prefer)))
    # Off the fakes other members put rules on, unless only this step's own is left: a
    # cut of the payment proxy another member's order crossed turned a capture held past
    # the call timeout into a reset, which is retried, and the late commit went unseen.
    ahead = _services_ahead(plan, step)
    target = draw(st.sampled_from([s for s in ahead if s not in aim.down_fakes] or ahead[:1]))
    duration = draw(st.integers(50, max(50, _past(int(aim.call_timeout * 1000))))) / 1000
    params = _params(draw, kind, aim.call_timeout)
    return ScheduledFault(_fault(kind, target, params), when=when, duration=duration)


def _process_options(
    plan: OrderPlan, step: str, aim: _Aim, crash: bool = False
) -> list[tuple[str, str]]:
    """(kind, target) of the process faults this request can trigger: with ``crash``,
    the process that makes the request killed or restarted while the step is in flight
    (what it kept, and what it sends twice after): the orchestrator, or in a
    choreography the participants that carry the step out; else a fake this order
    calls from then on killed, paused or restarted, or the orchestrator paused. A paused
    fake could not let the parked trigger request go, so a pause takes the fakes after
    it. (The order view crashed in a choreography's crash cells, which does no step: a
    participant that acks before its effect lost the step only when a kill after its
    ack, seen on the wire, beat the effect, and the find replayed 0 times in 5.)"""
    if crash:
        ok = _crash_ok(aim.capabilities, aim.kinds)
        doers = messages.step_doers(aim.choreography, plan.intent, step) if aim.choreography else []
        targets = [f"participant:{d}" for d in doers] or ["orchestrator"]
        return [(k, t) for k in kinds_of("process", aim.kinds) for t in targets
                if ok and k in CRASH_KINDS]  # fmt: skip
    service = _STEP[step][0]
    ahead = [s for s in _services_ahead(plan, step) if s not in aim.down_fakes or s == service]
    out: list[tuple[str, str]] = []
    for kind in kinds_of("process", aim.kinds):
        if kind == "pause":
            if PROCESS_NEEDS["pause"] <= aim.capabilities:
                out.append((kind, "orchestrator"))
            out += [(kind, t) for t in ahead if t != service]
        else:
            out += [(kind, t) for t in ahead]
    return out


def _process_fault(
    draw: st.DrawFn, plan: OrderPlan, step: str, when: RequestMatch, aim: _Aim, crash: bool,
    prefer: str | None,
) -> ScheduledFault:
    options = _process_options(plan, step, aim, crash)
    kind = draw(st.sampled_from(_prefer(sorted({k for k, _ in options}), prefer)))
    target = draw(st.sampled_from([t for k, t in options if k == kind]))
    if kind == "restart":
        duration = 0.0
    elif kind == "pause":  # a paused process holds requests: up to past the timeout
        duration = draw(st.integers(0, _past(int(aim.call_timeout * 1000)))) / 1000
    else:
        duration = draw(st.integers(0, 500)) / 1000
    params = _params(draw, kind, aim.call_timeout)
    return ScheduledFault(_fault(kind, target, params), when=when, duration=duration)


def _groups(plan: OrderPlan, step: str, phase: str, aim: _Aim,
            only: str | None = None) -> list[str]:  # fmt: skip
    """The groups a fault on this order's step can be drawn from here (of ``only``, when
    given: the others' options are not worked out)."""
    groups = [g for g in groups_at(step, phase, _crash_ok(aim.capabilities, aim.kinds), aim.kinds)
              if only in (None, g) and fits(plan.intent, step, g, None, _hybrid(aim.choreography))]  # fmt: skip
    if _STEP[step][0] in aim.down_fakes:
        groups = [g for g in groups if g not in ("http", "late")]
    for group in ("crash", "process"):
        if group in groups and not _process_options(plan, step, aim, group == "crash"):
            groups.remove(group)
    for group in ("client", "review"):
        if group in groups and not _input_kinds(plan, step, phase, aim, group):
            groups.remove(group)
    for group in MESSAGE_GROUPS:
        if group in groups and not _message_kinds(plan, step, phase, aim, group):
            groups.remove(group)
    return groups


def _message_kinds(plan: OrderPlan, step: str, phase: str, aim: _Aim,
                   group: str, event: str | None = None) -> list[str]:  # fmt: skip
    """The kinds of the message family's ``group`` this order's step and phase can take
    on this choreography (on ``event``, the one reporting the step, when given)."""
    if aim.choreography is None:
        return []
    kinds = messages.options(aim.choreography, plan.intent, step, phase,
                             kinds_of("message", aim.kinds), group, event)  # fmt: skip
    if aim.choreography.hybrid and not _crash_ok(aim.capabilities, aim.kinds):
        # a hybrid's publisher is the orchestrator, which this one cannot have killed
        kinds = [k for k in kinds if k != "message_publish_crash"]
    return kinds


def _input_kinds(plan: OrderPlan, step: str, phase: str, aim: _Aim, group: str) -> list[str]:
    """The client kinds of ``group`` this order's step and phase can be sent: at the
    customer step, ``review`` is a decision to an order that awaits one, ``client`` an
    input to an order that never asks."""
    kinds = inputs.options(plan, step, phase, aim.capabilities, aim.kinds)
    if step != "customer":
        return kinds if group == "client" else []
    mine = inputs.review_kinds(phase) if group == "review" else inputs.unasked_kinds(phase)
    return [k for k in kinds if k in mine]


@st.composite
def aimed_faults(
    draw: st.DrawFn,
    plans: Sequence[OrderPlan],
    capabilities: frozenset[str] = ALL_CAPABILITIES,
    kinds: Sequence[str] | None = None,
    down_fakes: frozenset[str] = frozenset(),
    call_timeout: float = DEFAULT_CALL_TIMEOUT,
    cell: Cell | None = None,
    choreography: Choreography | None = None,
    besides: str | None = None,
    read_before: frozenset[str] = frozenset(),
) -> ScheduledFault:
    """One entry aimed by construction at a step of an order in the workload (at
    ``cell``'s step, group and phase when given; at a step other than ``besides``, the
    step of the fault it follows on its order: two crashes triggered by one request
    are one crash, and a pack's "crash while resuming after a crash" drew that one in
    four times). A rule (``RULED``) is not put on the customer read of an order whose
    customer an earlier order reads (``read_before``): that read carries no order id, so
    the rule on the path met the earlier order instead (a review-timeout member shared
    its high-risk customer with a review-approve one in about one pack in six). Other
    groups keep that step: a client input carries its order's id, and leaving the step
    out of a review member's only step made its draw invalid (review-twice's find moved
    from example 9 to 14 on two seeds of five).

    HTTP rules match that order's step (in place from the start, so they hit whenever the
    step comes); network and process faults are triggered by the step itself (the
    nemesis parks the request, applies the fault, lets it go) and heal after a window at
    the orchestrator's scale, or at once for a crash-and-restart. Nothing here waits on
    the wall clock to pick *where* a fault lands, so a replay lands it on the same step."""
    aim = _Aim(frozenset(capabilities), kinds, down_fakes, call_timeout, choreography)
    pairs = _cell_pairs(plans, cell, besides, read_before)
    if cell is not None and cell.group is not None and cell.step is None:
        # (only where the group can be drawn, and below at a phase where it can: a
        # draw that could not was a rejected example)
        pairs = [(p, s) for p, s in pairs if _phases_for(p, s, cell.group, aim)]
    if cell is not None and cell.group == "review" and cell.kind and cell.phase:
        pairs = [(p, s) for p, s in pairs  # (no decision twice to an order meant to time out)
                 if cell.kind in _input_kinds(p, s, cell.phase, aim, "review")]  # fmt: skip
    if not pairs:
        reject()
    plan, step = draw(st.sampled_from(pairs))
    if cell is not None and cell.phase:
        phase = cell.phase
    elif cell is not None and cell.group is not None:
        phase = draw(st.sampled_from(_phases_for(plan, step, cell.group, aim)))
    else:
        phase = draw(PHASE)
    groups = _groups(plan, step, phase, aim, cell.group if cell is not None else None)
    if not groups:
        reject()
    group = draw(st.sampled_from(groups))
    service, method, path = _STEP[step]
    when = RequestMatch(service, path, method, plan.order_id, 1, phase)
    prefer = cell.kind if cell is not None else None
    if group == "http":
        return _http_rule(draw, plan, step, phase, aim, prefer)
    if group == "late":
        return _late_commit(draw, plan, step, aim)
    if group == "network":
        return _network_fault(draw, plan, step, when, aim, prefer)
    if group in ("client", "review"):
        kinds_here = _prefer(_input_kinds(plan, step, phase, aim, group), prefer)
        if cell is not None and cell.tier == "intent":
            # The intent tier covers each order's outcome: not one an input races (a
            # decision racing the timeout won, and a 20-example search never saw a
            # review time out, nor the orchestrator whose timeout never fires).
            kinds_here = [k for k in kinds_here if not getattr(fault_kinds()[k], "race", False)]
            if not kinds_here:
                reject()
        if group == "review" and prefer is not None and kinds_here != [prefer]:
            reject()  # e.g. no opposite decision for an order meant to time out
        return inputs.client_fault(draw, plan, step, phase, when, kinds_here)
    if group in MESSAGE_GROUPS:
        return _message_fault(draw, plan, step, phase, aim, group, cell, prefer)
    return _process_fault(draw, plan, step, when, aim, group == "crash", prefer)


def _cell_pairs(plans: Sequence[OrderPlan], cell: Cell | None, besides: str | None,
                read_before: frozenset[str]) -> list[tuple[OrderPlan, str]]:  # fmt: skip
    """The (order, step) pairs ``aimed_faults`` may aim ``cell``'s fault at. An
    undo-first cell's (plan.undo_first) is on its intent's order, at a step of the
    order's events, not always of the orchestrator's (a declined order reserves beside
    the capture)."""
    if cell is not None and cell.tier == "intent" and cell.step is not None:
        return [(p, cell.step) for p in plans if p.intent == cell.intent]
    ruled = cell is not None and cell.group in RULED  # rules aimed by the customer's path
    return [(p, s) for p, s in _aim_pairs(plans, cell.step if cell else None) if s != besides
            and not (ruled and s == "customer" and p.order.get("customer_id") in read_before)]  # fmt: skip


def _message_fault(draw: st.DrawFn, plan: OrderPlan, step: str, phase: str, aim: _Aim,
                   group: str, cell: Cell | None, prefer: str | None) -> ScheduledFault:  # fmt: skip
    """A fault of the message family's ``group`` on this order's step, on the event a
    death cell names."""
    assert aim.choreography is not None  # (_groups keeps these groups only with one)
    event = cell.event if cell is not None else None
    mine = _prefer(_message_kinds(plan, step, phase, aim, group, event), prefer)
    if not mine:
        reject()  # (a death cell's event is not this order's: the planner's always is)
    return draw(messages.aimed(aim.choreography, plan.order_id, plan.intent, step, phase,
                               mine, event))  # fmt: skip


def _services_ahead(plan: OrderPlan, step: str) -> list[str]:
    """The fakes this order calls at ``step`` and after it, each once, in call order."""
    steps = REACHES[plan.intent]  # ``step`` was drawn from these
    return list(dict.fromkeys(_STEP[s][0] for s in steps[steps.index(step):]))


@st.composite
def aimed_schedules(
    draw: st.DrawFn,
    plans: Sequence[OrderPlan],
    max_faults: int = 3,
    capabilities: frozenset[str] = ALL_CAPABILITIES,
    kinds: Sequence[str] | None = None,
    call_timeout: float = DEFAULT_CALL_TIMEOUT,
    min_faults: int = 1,
    choreography: Choreography | None = None,
) -> Schedule:
    """min_faults..max_faults aimed entries. A fake a process fault takes down gets no
    HTTP rule from another entry (``_keep``). Generated entries may not fire (an
    earlier fault can end the order before the step): the property scenario discards a
    run where none fired."""
    n = draw(st.integers(min(min_faults, max_faults), max(1, max_faults)))
    items: list[ScheduledFault] = []
    down: set[str] = set()
    rule_on: set[str] = set()
    for _ in range(n):
        entry = draw(aimed_faults(plans, capabilities, kinds, frozenset(down), call_timeout,
                                  choreography=choreography))  # fmt: skip
        _keep(entry, items, down, rule_on)
    return Schedule(tuple(items))


@dataclass(frozen=True)
class Workload:
    plans: list[OrderPlan]
    schedule: Schedule

    def __repr__(self) -> str:  # what Hypothesis prints for a falsifying example
        orders = ", ".join(f"{p.order_id}:{p.intent}" for p in self.plans)
        faults = json.dumps([f.to_json() for f in self.schedule.faults], sort_keys=True)
        return f"Workload(orders=[{orders}], faults={faults})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis's printer walks dataclasses field by field (and can come out
        empty for values built inside a composite); print the workload itself."""
        printer.text(repr(self))




def reaches_for(capabilities: frozenset[str] | set[str], intents: Sequence[str] = INTENTS
                ) -> dict[str, tuple[str, ...]]:  # fmt: skip
    """The steps of each intent this orchestrator can carry out (none: not aimable)."""
    return {i: REACHES[i] for i in allowed_intents(capabilities, intents) if REACHES.get(i)}


def usable_kinds(caps: frozenset[str], kinds: Sequence[str] | None) -> list[str]:
    """The kinds a search over this system draws from: message faults only where the
    run has a broker whose traffic the fault proxy reads (the capability ``messages``)."""
    registry = fault_kinds()
    return [k for k in (kinds or sorted(registry)) if k in registry
            and ("messages" in caps or registry[k].family != "message")]  # fmt: skip


def _hybrid(choreography: Choreography | None) -> bool:
    """Whether the broker carries only a hybrid orchestrator's end events."""
    return choreography is not None and choreography.hybrid


def planned_cells(
    seed: int,
    capabilities: frozenset[str] | set[str] | None = None,
    kinds: Sequence[str] | None = None,
    intents: Sequence[str] = INTENTS,
    choreography: Choreography | None = None,
) -> tuple[Cell, ...]:
    """The whole coverage plan for an orchestrator with these capabilities (and, for a
    choreography or a hybrid, the ``workloads`` strategy's ``choreography``)."""
    caps = frozenset(ALL_CAPABILITIES if capabilities is None else capabilities)
    reaches = reaches_for(caps, intents)
    hybrid = _hybrid(choreography)
    # an input that needs what the orchestrator lacks (a clock for a late decision) is
    # no cell of its plan
    able = [k for k in usable_kinds(caps, kinds) if inputs.NEEDS.get(k, set()) <= caps
            and not (hybrid and k in messages.HYBRID_LACKS)]  # fmt: skip
    return plan_cells(seed, reaches, list(reaches), _crash_ok(caps, kinds), able, hybrid)


def planned_packs(
    seed: int,
    capabilities: frozenset[str] | set[str] | None = None,
    kinds: Sequence[str] | None = None,
    intents: Sequence[str] = INTENTS,
    choreography: Choreography | None = None,
) -> tuple[Pack, ...]:
    """The coverage plan's cells in the packs that examples carry (plan.pack_cells)."""
    return pack_cells(planned_cells(seed, capabilities, kinds, intents, choreography))


def planner_for(
    seed: int,
    index: int,
    count: int,
    capabilities: frozenset[str] | set[str] | None = None,
    kinds: Sequence[str] | None = None,
    replays: Callable[[], int] = lambda: 0,
    choreography: Choreography | None = None,
) -> Planner:
    """Slice ``index`` of ``count``'s planner: pass it to ``workloads(planner=...)``, with
    the same ``capabilities`` and ``choreography``."""
    packs = share_of(planned_packs(seed, capabilities, kinds, choreography=choreography),
                     index, count)  # fmt: skip
    return Planner(packs, index, count, replays)


@dataclass(frozen=True)
class _Bounds:
    """What every example of one workloads() strategy is drawn within."""

    reaches: dict[str, tuple[str, ...]]
    usable: list[str]
    max_orders: int
    max_faults: int
    caps: frozenset[str]
    kinds: Sequence[str] | None
    call_timeout: float
    choreography: Choreography | None = None


@st.composite
def _packed(
    draw: st.DrawFn, pack: Pack, world: Any, rng: random.Random, b: _Bounds
) -> tuple[list[OrderPlan], Schedule, bool]:
    """The example of one pack: each member present on an order of its own (an intent
    member's intent; a step member's order of an intent that reaches its step) with its
    fault aimed there, then up to ``max_orders`` with orders that carry no fault. A
    member may add a second fault of its group on its order (``_follows``: a crash of
    the orchestrator always brings a crash while resuming). Each member's draws follow
    its presence draw, so leaving it out (what the shrinker tries) drops its whole run
    of choices and the members after it draw as before. Also says whether every member
    is present."""
    plans: list[OrderPlan] = []
    items: list[ScheduledFault] = []
    down: set[str] = set()
    # Where the pack's HTTP rules and late commits go is known from their steps before
    # any is drawn: a process fault drawn first took a fake that a later member's rule
    # needed up, and that member could not be drawn (in one pack of seven, 9 draws in 10).
    rule_on = {_STEP[str(c.step)][0] for c in pack if c.tier == "step" and c.group in RULED}
    shed = False  # an HTTP member's own answer left out
    for cell in pack:
        if not draw(presence()):
            continue
        able = [i for i in b.reaches
                if cell.step in b.reaches[i]
                and fits(i, str(cell.step), str(cell.group), cell.kind, _hybrid(b.choreography),
                         cell.event)]  # fmt: skip
        if cell.tier == "step" and not able:
            reject()  # a plan made for other capabilities (the planner's never is)
        intent = str(cell.intent) if cell.tier == "intent" else draw(st.sampled_from(able))
        plan = make_order(world, intent, len(plans) + 1, rng)
        read_before = frozenset(str(p.order.get("customer_id")) for p in plans)
        plans.append(plan)
        follow = Cell("step", group=cell.group,
                      phase="before_commit" if cell.group == "late" else None)  # fmt: skip
        first_step: str | None = None
        for aim_at in (cell, follow):
            # A fake's process or network fault keeps off the fakes other members put
            # rules on (it would reach their orders' calls too).
            avoid = down | rule_on if cell.group in ("process", "network") else down
            if aim_at is follow:
                again, missing = _follows(draw, cell, plan, first_step, b, frozenset(avoid))
                shed = shed or missing
                if not again:
                    break
            besides = first_step if aim_at is follow else None
            entry = draw(aimed_faults([plan], b.caps, b.kinds, frozenset(avoid),
                                      b.call_timeout, aim_at, b.choreography, besides,
                                      read_before))  # fmt: skip
            if first_step is None:
                first_step = str(cell.step) if cell.tier == "step" else _step_of(entry)
            answers = [entry]
            if aim_at is cell and cell.group == "http":
                # The member's own answer may be shed too, once another stays (what
                # shrinking tries: a 5xx found behind a reset needs only the 5xx).
                own = draw(presence())
                others, every = draw(_other_answers(entry, b))
                answers = [entry, *others] if own or not others else others
                shed = shed or not every or answers is others
            elif aim_at is cell and cell.group == "review":
                others, every = draw(inputs.second_decisions(entry, b.kinds))
                answers += others
                shed = shed or not every
            for kept in answers:
                _keep(kept, items, down, rule_on)
    if not plans:
        reject()
    whole = len(plans) == len(pack) and not shed
    room = max(0, b.max_orders - len(plans))
    for intent in draw(st.lists(st.sampled_from(b.usable), max_size=room)):
        plans.append(make_order(world, intent, len(plans) + 1, rng))
    return plans, Schedule(tuple(items)), whole


def _follows(
    draw: st.DrawFn, cell: Cell, plan: OrderPlan, first: str | None, b: _Bounds,
    avoid: frozenset[str],
) -> tuple[bool, bool]:
    """Whether a member adds a second fault of its group on its order, and whether one
    it could add was left out (which generation rejects, as a member left out).

    A crash of the orchestrator is followed by a crash while the order resumes, in
    both tiers, whenever the order has another step to crash at: recovery is code like
    any other, and code that only runs after a crash is tested only by a crash during
    it (a restart that resumes each order once, a recovery that is not idempotent).
    Left to a coin, the crash while recovering came up in one crash member of two, and
    a liveness defect of recovery was found at example 5 of 20 (median over 5 seeds).
    The second crash is drawn like a member's presence, so shrinking tries without it
    first. The other groups add their second fault by a coin, in the step tier only:
    a second 5xx or pause of the same kind exercises no code the first did not.

    Only where the order has another step that can take the group: a coin that asked
    for a second review decision (the customer step is the only one) or a second HTTP
    answer on an order refused at its first step threw the whole example away, and
    such draws were most of the planner's rejections (a dev budget of 20 examples ran
    13 of them on one seed before Hypothesis gave up)."""
    if b.max_faults < 2 or not _can_follow(plan, first, b, str(cell.group), avoid):
        return False, False
    if cell.group == "crash":
        present = draw(presence())
        return present, not present
    return cell.tier == "step" and draw(st.integers(0, 1)) == 1, False


def _can_follow(plan: OrderPlan, first: str | None, b: _Bounds, group: str,
                avoid: frozenset[str]) -> bool:  # fmt: skip
    """Whether ``plan``'s order has a step besides ``first`` that can take a fault of
    ``group`` (what ``aimed_faults`` draws a follow-up from)."""
    aim = _Aim(frozenset(b.caps), b.kinds, avoid, b.call_timeout, b.choreography)
    return any(s != first and _phases_for(plan, s, group, aim)
               for _, s in _aim_pairs([plan], None))  # fmt: skip


def _phases_for(plan: OrderPlan, step: str, group: str, aim: _Aim) -> list[str]:
    """The phases at which this order's step can take a fault of ``group``."""
    return [ph for ph in PHASES if group in _groups(plan, step, ph, aim, group)]


def _step_of(entry: ScheduledFault) -> str | None:
    """The step an aimed entry is triggered by or matches (None for a timed one)."""
    when = entry.when
    params = entry.fault.get("params") or {}
    service = when.service if when else entry.fault.get("target")
    method = when.method if when else params.get("method")
    path = when.path if when else params.get("path")
    return next((name for name, (svc, meth, pth) in _STEP.items()
                 if (svc, meth, pth) == (service, method, path)), None)  # fmt: skip


@st.composite
def _other_answers(
    draw: st.DrawFn, entry: ScheduledFault, b: _Bounds
) -> tuple[list[ScheduledFault], bool]:
    """The ``http`` group's other kinds on the same request of the same order, in phase,
    each once, in a drawn order after the member's own: the attempts that follow meet
    a 5xx, a garbled answer, a reset and a lost answer in turn. One kind per step and
    phase left three in four of a step's answers out of any plan: a 5xx after a
    forward step's commit was in none of a seed's plans, so an orchestrator that takes
    one for a refusal went unfound in 20 examples. The answers cost no wait, so each
    HTTP member covers its family whole. Each may be left out, as a member may: a
    failure sheds the answers it does not need. Also says whether none was."""
    kind = str(entry.fault["kind"])
    if kind in NOT_PLAIN_HTTP:
        return [], True
    params = entry.fault.get("params") or {}
    aim = {k: params[k] for k in ("method", "path", "phase", "order_id") if k in params}
    rest = [k for k in plain_http(b.kinds) if k != kind]

    def build(draw: st.DrawFn, other: str) -> ScheduledFault:
        more = _params(draw, other, b.call_timeout)
        more.update(aim, times=1)
        return ScheduledFault(_fault(other, str(entry.fault["target"]), more), at=0.0)

    return draw(family(rest, build))


#: The groups whose faults are HTTP rules on the step's own fake.
RULED = ("http", "late")


def _keep(entry: ScheduledFault, items: list[ScheduledFault], down: set[str],
          rule_on: set[str]) -> None:  # fmt: skip
    """Add ``entry`` unless it is a process fault on a fake that carries another
    entry's HTTP rule (the nemesis would restore it, but the rule's hits would then
    depend on timing); note what it takes down and where rules are."""
    family = fault_kinds()[str(entry.fault["kind"])].family
    target = str(entry.fault["target"])
    if family == "process" and target in rule_on:
        return
    if family == "process":
        down.add(target)
    if family == "http":
        rule_on.add(target)
    items.append(ScheduledFault(entry.fault, entry.at, entry.when, entry.duration, None, True))


@st.composite
def workloads(
    draw: st.DrawFn,
    seed: int = 0,
    max_orders: int = 6,
    max_faults: int = 3,
    intents: Sequence[str] = INTENTS,
    kinds: Sequence[str] | None = None,
    capabilities: frozenset[str] | set[str] | None = None,
    call_timeout: float = DEFAULT_CALL_TIMEOUT,
    planner: Planner | None = None,
    choreography: Choreography | None = None,
) -> Workload:
    """Orders plus faults, each aimed at a step of one of those orders: a pack of cells
    of the coverage plan (``fracas.harness.search.plan``), or a free combination of two
    or more faults. The pack is drawn as an index into the plan (the slice's, with a
    ``planner``), so it shrinks like any draw, toward the plan's first packs, and each
    of its members may be left out, which is how a failure sheds what it does not need.
    ``max_faults`` bounds a free combination's faults and a pack member's (its own,
    and a second of its group on its order).

    ``capabilities`` (the orchestrator's, e.g. ``fracas.orchestrator.capabilities``)
    leaves out what it cannot do: review_timeout orders without a clock, crashes of an
    orchestrator that cannot be restarted. ``call_timeout`` (seconds) is how long the
    orchestrator waits on one call: delays, pauses and partitions reach past it.

    ``choreography`` (``search.messages.Choreography``: who consumes what) adds message
    faults, with the capability ``messages`` (a broker whose traffic the fault proxy
    reads): on the events that set each step off and on those it publishes."""
    caps = frozenset(ALL_CAPABILITIES if capabilities is None else capabilities)
    if "messages" in caps and choreography is None:
        raise ValueError("workloads: the capability 'messages' needs choreography= "
                         "(search.messages.Choreography: who consumes what)")
    kinds = usable_kinds(caps, kinds)
    reaches = reaches_for(caps, intents)
    if not reaches:
        raise ValueError(f"workloads: no intent in {list(intents)} reaches a step to aim at")
    packs = (planner.packs if planner is not None
             else planned_packs(seed, caps, kinds, intents, choreography))  # fmt: skip
    # A tier of the plan, then a pack of it; the last choice is a free combination. Both
    # shrink toward the plan's first tier and pack.
    spans = tier_spans(packs)
    tier = draw(st.integers(0, len(spans)))
    k = len(packs)
    if tier < len(spans):
        start, end = spans[tier]
        k = start + draw(st.integers(0, end - start - 1))
    # Faker details, not the shape: a few seeds give variety, and shrinking has
    # little to walk through that does not change what the run asks.
    rng = random.Random(draw(st.integers(0, DETAIL_SEEDS - 1)))
    usable = allowed_intents(caps, intents)
    world = build_world(seed)
    bounds = _Bounds(reaches, usable, max_orders, max_faults, caps, kinds, call_timeout,
                     choreography)  # fmt: skip
    if k < len(packs):
        plans, schedule, whole = draw(_packed(packs[k], world, rng, bounds))
    else:
        (plans, schedule), whole = draw(_free(world, rng, bounds)), True
    if planner is not None:
        planner.admit(k, shape_of(plans, schedule, call_timeout), whole)
    return Workload(plans, schedule)


@st.composite
def _free(draw: st.DrawFn, world: Any, rng: random.Random, b: _Bounds
          ) -> tuple[list[OrderPlan], Schedule]:  # fmt: skip
    """A free combination: two or more faults, on one order or on several, the first
    order one that makes effects, so its faults have more than a customer read to land
    on."""
    first = [i for i in b.reaches if len(b.reaches[i]) > 3] or list(b.reaches)
    chosen = [draw(st.sampled_from(first))]
    chosen += draw(st.lists(st.sampled_from(b.usable), max_size=max(0, b.max_orders - 1)))
    plans = [make_order(world, intent, i + 1, rng) for i, intent in enumerate(chosen)]
    schedule = draw(aimed_schedules(plans, b.max_faults, b.caps, b.kinds, b.call_timeout,
                                    min_faults=2, choreography=b.choreography))  # fmt: skip
    return plans, schedule
