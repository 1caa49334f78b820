"""A failing example split by order, before Hypothesis shrinks it.

An example carries a pack of cells, each on an order of its own (search/plan.py), and a
defect usually needs one of them. Hypothesis's shrinker does find that order, but its
first tries are blind to the structure (everything at its simplest, then spans of
choices), and each try is a real run of seconds, so a 40 s shrinking budget ran out
with five orders and five faults left (a crash while refunding, found in 4 examples of
a dev search). So the first failure is split first: each order that carries a fault is
run alone with its faults (those of the orders the violations name first), and the first part that fails twice is the smallest case so
far. Hypothesis then shrinks as before, and runs only cases smaller than it
(search/shrinking.py); the report shows the smallest case that failed twice.

The part is then thinned by fault: each of its faults alone, then, if none fails alone,
each left out in turn (``thinned``). One order's faults come in runs (an HTTP member
meets every answer of its family, a second fault of its group may follow), and with
five of them on one order Hypothesis's 40 s ran out (a 5xx found behind a reset, a
garbled answer and a lost one was reported with all five). A one-order run costs a
second or two, so this costs less than one blind shrink step per fault.

When no part fails alone, an order may need another that shares its customer (a
message keyed by customer, not by order, reached one of two orders of one customer):
the orders the violations name, with every order of their customers and the faults
aimed at them, are the next part to try (``coupled``). Split by order alone, such a
case was left to Hypothesis and reported with four orders and six faults.

When no part fails, the whole case is run again (``first_find``). One that passes
then failed on timing between its orders: a crash one order's step set off, landing on
another order's retry, found a held-out missing key on one seed of two, and neither
Hypothesis's shrinking nor a replay could show it again (2 replays of 5). The search
keeps such a find and goes on, and reports it only if nothing that fails again comes.

One that fails again whole, with no part that fails alone, is left to Hypothesis when
it is already small (``READABLE``). A bigger one failed on how its orders' timing
meets: a capture slowed past the orchestrator's timeout by a pause another order set
off, on a loaded machine, was reported with five orders and nine faults, and
Hypothesis could not make it smaller in its 40 s, since no smaller case was slowed so.
The same defect has a shape of its own in the plan (the late commit), so the search
keeps such a find (``"together"``) and goes on, and reports it whole only if nothing
smaller fails in the rest of the budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from fracas.fakes import contract
from fracas.harness.model.coverage import family_of
from fracas.harness.model.steps import STEPS
from fracas.harness.run.schedule import Schedule, ScheduledFault
from fracas.harness.run.workload import OrderPlan

#: The most orders and the most faults of a witness read at a glance: a find bigger
#: than this that no part of fails is kept while the search goes on (see above).
READABLE = (3, 3)


class _Result(Protocol):
    @property
    def ok(self) -> bool: ...


def aimed_at(entry: ScheduledFault, plans: Sequence[OrderPlan]) -> str | None:
    """The order id a schedule entry is aimed at: its trigger's or its rule's order, or
    the order whose customer's path a CRM rule matches (that read carries no order id)."""
    if entry.when is not None and entry.when.order_id:
        return str(entry.when.order_id)
    params: dict[str, Any] = dict(entry.fault.get("params") or {})
    if params.get("order_id"):
        return str(params["order_id"])
    path = str(params.get("path") or "")
    for plan in plans:
        if path == f"/customers/{plan.order.get('customer_id')}":
            return plan.order_id
    return None


def parts(plans: Sequence[OrderPlan], schedule: Schedule) -> list[tuple[list[OrderPlan], Schedule]]:
    """Each order that carries a fault, alone with its faults, in plan order; none when
    the example has one such order only, or a fault aimed at no order (it may need
    them all)."""
    aims = [aimed_at(e, plans) for e in schedule.faults]
    if None in aims:
        return []
    out = []
    for plan in plans:
        mine = tuple(e for e, a in zip(schedule.faults, aims, strict=True) if a == plan.order_id)
        if mine:
            out.append(([plan], Schedule(mine)))
    return out if len(out) > 1 else []


def coupled(
    plans: Sequence[OrderPlan], schedule: Schedule, result: Any
) -> list[tuple[list[OrderPlan], Schedule]]:
    """The parts to try when no order alone fails, smallest first: the orders
    ``result``'s violations name with every order of the same customer; then those and
    every order that carries a network or process fault on a fake the named orders call
    (or on the orchestrator). Each with the faults aimed at its orders (or at no order);
    none that is every order, or when no violation names one. A timeout toxic on the
    payment proxy set off by one order's reservation declined another order's capture:
    neither alone failed, and the case went to Hypothesis whole (five orders, eight
    faults). A message keyed by customer reached one of two orders of one customer, and
    with a crash of the orchestrator among the other orders' faults (it reaches every
    order) the second part was every order: the case was reported whole, five orders
    and ten faults, where the customer's two orders alone failed."""
    blamed = named(result)
    if not blamed:
        return []
    aims = [aimed_at(e, plans) for e in schedule.faults]
    reaching = {a for e, a in zip(schedule.faults, aims, strict=True)
                if _reached(plans, (e,), blamed) - {a}}
    kin = frozenset(_kin(plans, blamed))
    out: list[tuple[list[OrderPlan], Schedule]] = []
    for ids in dict.fromkeys((kin, kin | reaching)):  # the second only if it adds orders
        kept = [p for p in plans if p.order_id in ids]
        faults = tuple(e for e, a in zip(schedule.faults, aims, strict=True) if a in ids | {None})
        if kept and len(kept) < len(plans) and faults:
            out.append((kept, Schedule(faults)))
    return out


def _slim(
    part: tuple[list[OrderPlan], Schedule, _Result], blamed: set[str],
    run: Callable[[list[OrderPlan], Schedule], _Result],
) -> tuple[list[OrderPlan], Schedule, _Result]:  # fmt: skip
    """A coupled part, thinned, less the orders that now carry none of its faults and
    are neither named nor of a named order's customer, if it still fails twice without
    them (a case of two orders of one customer was reported with four: the orders that
    came for a cut thinning took away)."""
    plans, schedule, result = part
    carrying = {aimed_at(e, plans) for e in schedule.faults}
    ids = _kin(plans, blamed) | carrying
    kept = [p for p in plans if p.order_id in ids]
    if len(kept) == len(plans):
        return part
    again = _fails_twice(kept, schedule, run)
    return part if again is None else (kept, schedule, again)


def _kin(plans: Sequence[OrderPlan], blamed: set[str]) -> set[str]:
    """The ids of the ``blamed`` orders and of every order of their customers."""
    customers = {p.order.get("customer_id") for p in plans if p.order_id in blamed}
    return {p.order_id for p in plans
            if p.order_id in blamed or p.order.get("customer_id") in customers}  # fmt: skip


#: The fakes an order of each intent calls.
_SERVICES: dict[str, frozenset[str]] = {
    i.name: frozenset(svc for step, svc, _, _ in STEPS if step in i.reaches)
    for i in contract.INTENTS
}


def _reached(plans: Sequence[OrderPlan], faults: Sequence[ScheduledFault],
             among: set[str]) -> set[str]:  # fmt: skip
    """The orders of ``among`` that ``faults`` reach: its own order for a fault aimed at
    one; every order that calls the fake for a network or process fault (a cut or a
    kill of a fake reaches every order's calls to it), every order for one on the
    orchestrator or a participant (each works on every order)."""
    out: set[str] = set()
    for entry in faults:
        own = aimed_at(entry, plans)
        out |= {own} & among if own is not None else set()
        if family_of(entry.fault.get("kind")) in ("network", "process"):
            target = entry.fault.get("target")
            out |= {p.order_id for p in plans if p.order_id in among and (
                target == "orchestrator" or str(target).startswith("participant:")
                or target in _SERVICES.get(p.intent, ()))}  # fmt: skip
    return out


def named(result: Any) -> set[str]:
    """The orders ``result``'s violations name (none for a result without a verdict)."""
    violations = getattr(getattr(result, "verdict", None), "violations", ())
    return {str(v.order_id) for v in violations if getattr(v, "order_id", None)}


def stuck(result: Any) -> bool:
    """Whether ``result`` names a stuck order: each run that shows one waits out the
    quiet period (10 s at a 5 s call timeout), where a run that passes takes a second
    or two."""
    violations = getattr(getattr(result, "verdict", None), "violations", ())
    return any(getattr(v, "rule", None) == "liveness" for v in violations)


def first_failing_part(
    plans: Sequence[OrderPlan], schedule: Schedule,
    run: Callable[[list[OrderPlan], Schedule], _Result], result: Any = None,
) -> tuple[list[OrderPlan], Schedule, _Result, bool] | None:  # fmt: skip
    """The first part (``parts``) that fails twice, with its second failing run, and
    whether each of its faults alone was tried already. The parts whose faults reach
    more of the orders ``result``'s violations name come first (``_reached``): four
    orders stuck after two crashes of the orchestrator, set off by the last order's
    steps, ran three parts that passed before that order's. Among parts of equal reach,
    a named order's own part comes first: a crash of the orchestrator reaches every
    order, so two stuck orders tied four parts, and the named order's own crashes ran
    fourth, after three that passed (5 s of a liveness search).

    For a stuck order (``stuck``), each part's faults alone are tried before the part:
    they cost a second or two each when they pass, and a stuck part two quiet periods
    more. A crash of the orchestrator comes with a crash while resuming, and a restart
    that leaves a running order alone shows with the first crash alone: confirming the
    part first and thinning it after cost four stuck runs (75 s of a liveness search
    whose find took 26 s); the first crash alone, two."""
    blamed = named(result)
    slow = stuck(result)

    def reach(part: tuple[list[OrderPlan], Schedule]) -> tuple[int, bool]:
        return -len(_reached(plans, part[1].faults, blamed)), part[0][0].order_id not in blamed

    for part_plans, part_schedule in sorted(parts(plans, schedule), key=reach):
        tried = slow and len(part_schedule.faults) > 1
        if tried:
            thin = _alone(part_plans, part_schedule, run)
            if thin is not None:
                return thin[0], thin[1], thin[2], True
        if run(part_plans, part_schedule).ok:
            continue
        again = run(part_plans, part_schedule)
        if not again.ok:
            return part_plans, part_schedule, again, tried
    return None


def _fails_twice(
    plans: list[OrderPlan], schedule: Schedule,
    run: Callable[[list[OrderPlan], Schedule], _Result],
) -> _Result | None:  # fmt: skip
    """The second failing run of a case that fails twice in a row, else None."""
    if run(plans, schedule).ok:
        return None
    again = run(plans, schedule)
    return None if again.ok else again


def _alone(
    plans: list[OrderPlan], schedule: Schedule,
    run: Callable[[list[OrderPlan], Schedule], _Result],
) -> tuple[list[OrderPlan], Schedule, _Result] | None:  # fmt: skip
    """The first of ``schedule``'s faults that fails twice alone, with its second run."""
    for entry in schedule.faults:
        alone = Schedule((entry,))
        again = _fails_twice(plans, alone, run)
        if again is not None:
            return plans, alone, again
    return None


def thinned(
    plans: list[OrderPlan], schedule: Schedule, result: _Result,
    run: Callable[[list[OrderPlan], Schedule], _Result], alone_tried: bool = False,
) -> tuple[list[OrderPlan], Schedule, _Result]:  # fmt: skip
    """A failing case with fewer faults that still fails twice: the first fault that
    does alone (unless ``alone_tried``), else the case less each fault whose leaving
    out still fails (in order, so an HTTP rule keeps its place in a run of answers).
    At most two runs per fault and pass; the case itself when nothing can go."""
    faults = list(schedule.faults)
    if len(faults) < 2:
        return plans, schedule, result
    thin = None if alone_tried else _alone(plans, schedule, run)
    if thin is not None:
        return thin
    kept = faults
    for entry in faults:
        if len(kept) <= 2:
            break  # each alone passed: a pair is as thin as it gets
        trial = Schedule(tuple(f for f in kept if f is not entry))
        again = _fails_twice(plans, trial, run)
        if again is not None:
            kept, result = list(trial.faults), again
    return plans, Schedule(tuple(kept)), result


def first_find(
    plans: Sequence[OrderPlan], schedule: Schedule,
    run: Callable[[list[OrderPlan], Schedule], _Result], result: Any = None,
) -> tuple[str, tuple[list[OrderPlan], Schedule, _Result] | None]:  # fmt: skip
    """What a search's first failure (``result``) is: ``("part", part)``, an order alone
    with its faults that failed twice; ``("again", None)``, no such part, but the whole
    case failed again; ``("together", part)``, the same for a case bigger than
    ``READABLE`` (with its smallest coupled part that failed twice, if any);
    ``("unrepeated", None)``, it did not."""
    found = first_failing_part(plans, schedule, run, result)
    if found is not None:
        part_plans, part_schedule, part_result, tried = found
        return "part", thinned(part_plans, part_schedule, part_result, run=run, alone_tried=tried)
    again = run(list(plans), schedule)
    if again.ok:
        return "unrepeated", None
    for pair in coupled(plans, schedule, again):
        verified = _fails_twice(*pair, run=run)
        if verified is not None:
            part = _slim(thinned(*pair, verified, run=run), named(again), run)
            # Bigger than READABLE, it failed on how its orders' timing met (a restart
            # set off by one order, landing on two others' refunds, needed a fourth
            # order beside them): kept, as a whole case is, while the plan goes on.
            return ("part" if _readable(part[0], part[1]) else "together"), part
    carried = {aimed_at(e, plans) for e in schedule.faults}
    if len(carried) != 1 or None in carried:
        return _whole(plans, schedule), None
    # One order carries every fault: that order alone with them, thinned.
    base: tuple[list[OrderPlan], Schedule, _Result] = (list(plans), schedule, again)
    alone = [p for p in plans if p.order_id in carried]
    if len(alone) < len(plans):
        verified = _fails_twice(alone, schedule, run)
        if verified is not None:
            base = (alone, schedule, verified)
    part = thinned(*base, run=run)
    if len(part[0]) < len(plans) or part[1] != schedule:
        return "part", part
    return _whole(plans, schedule), None


def _readable(plans: Sequence[OrderPlan], schedule: Schedule) -> bool:
    return len(plans) <= READABLE[0] and len(schedule.faults) <= READABLE[1]


def _whole(plans: Sequence[OrderPlan], schedule: Schedule) -> str:
    """``"again"`` for a whole case small enough to read, else ``"together"``."""
    return "again" if _readable(plans, schedule) else "together"
