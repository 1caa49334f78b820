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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from fakes.world import build_world
from harness.faults import fault_kinds
from harness.faults.base import REQUIRED, Fault, FaultValidationError, Param
from harness.profiles import register_profiles
from harness.schedule import RequestMatch, Schedule, ScheduledFault
from harness.services import SERVICES
from harness.workload import INTENTS, OrderPlan, make_order

register_profiles()

PROCESS_TARGETS = (*SERVICES, "orchestrator")

#: (method, path pattern) of the calls an orchestrator makes to each fake.
ENDPOINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "crm": (("GET", "/customers/*"),),
    "payment": (("POST", "/payments"), ("POST", "/payments/*/refunds")),
    "inventory": (("POST", "/reservations"), ("POST", "/reservations/*/release")),
    "shipping": (("POST", "/shipments"), ("POST", "/quotes"), ("POST", "/shipments/*/cancel")),
    "notify": (("POST", "/messages"),),
}

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
    rng_seed = draw(st.integers(0, 2**16))
    import random

    rng = random.Random(rng_seed)
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
    names = sorted(kinds or registry)
    kind = draw(st.sampled_from(names))
    cls = registry[kind]
    family = cls.family
    target = draw(st.sampled_from(PROCESS_TARGETS if family == "process" else SERVICES))
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
    phase = draw(st.sampled_from(("after_commit", "before_commit")))
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


@dataclass(frozen=True)
class Workload:
    plans: list[OrderPlan]
    schedule: Schedule

    def __repr__(self) -> str:  # what Hypothesis prints for a falsifying example
        orders = ", ".join(f"{p.order_id}:{p.intent}" for p in self.plans)
        return f"Workload(orders=[{orders}], schedule={self.schedule.dumps()})"


@st.composite
def workloads(
    draw: st.DrawFn,
    seed: int = 0,
    max_orders: int = 6,
    max_faults: int = 3,
    intents: Sequence[str] = INTENTS,
    kinds: Sequence[str] | None = None,
) -> Workload:
    """Orders plus a schedule whose event triggers point at those orders' steps."""
    plans = draw(order_plans(seed, 1, max_orders, intents))
    schedule = draw(schedules([p.order_id for p in plans], max_faults, kinds))
    return Workload(plans, schedule)
