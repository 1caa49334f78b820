"""A witness that fails on every replay, where the search's own may not.

While shrinking, a case counts when it fails twice in a row (search/shrinking.py), and
that does not tell a case that always fails from one that fails two times in three. A
fault that spills (``Fault.spills``: a kill, a pause, a cut link) acts on whatever is
in flight at its target, so with more than one order, which order it lands on, and
when, is timing. The choreography's cancel-first defect was found so on every seed (a
crash of payment aimed at one order, landing while another's capture was unacked; a
cut link to payment) and two seeds of five reported a case that replayed 3 and 4 times
in 5. One order is no shelter: payment killed after its capture of an out-of-stock
order races inventory's rejection to the refund (4 replays in 5).

So before such a case is reported it runs ``REPLAYS`` more times. One that fails each
time is reported as it is. One that does not is a race: each order its violations name
is tried alone, with one event of its path held back from a participant the spilling
faults hit (``message_late``: what a crash, a pause or a slow link does to the
delivery, pinned to one message, with no timing left to it). The first such
neighbour that fails on every one of ``REPLAYS`` + 2 runs is the witness: one order and
one fault, the same defect shown every time. None does: the case is reported as found,
and the report names the race.

One order alone races too when a participant is killed after it acked an event
(``message_crash`` ``after_ack``): the kill, sent when the ack is seen on the wire,
races what the participant goes on to do, another event of the order it was about to
handle, say (no-outbox's fourth seed: payment killed after acking an out-of-stock
order's ``customer.checked`` lost the refund it went on to publish on 3 runs in 5). Such
a case is replayed likewise, and its neighbours pin each thing the kill may have cut:
the same participant killed as it publishes each later event of the order that it
publishes (``message_publish_crash``), the crash left out.

A find the search would report as it was (it did not fail again, whole or any order of
it alone; or it failed again whole but no order of it alone did, so Hypothesis could
not shrink it) is given the same chance at the end of the search: its first steady
neighbour is reported in its place (``steady_neighbour``).

A neighbour is only tried for a choreography or a hybrid (the message family aims at
one delivery). An orchestrator's HTTP rules aim at one request the same way (a delay of
the step's call), and are not tried here yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fracas.fakes.events import PATHS, STEP_OF
from fracas.harness.faults.base import fault_kinds
from fracas.harness.faults.process import PARTICIPANT
from fracas.harness.model.steps import STEPS
from fracas.harness.run.schedule import Schedule, ScheduledFault
from fracas.harness.run.workload import OrderPlan
from fracas.harness.search.messages import Choreography, hold, late_ms, step_doers
from fracas.harness.search.split import aimed_at, named

#: Runs of a suspect case beyond the two that confirmed it, before it is reported.
REPLAYS = 3
#: The most neighbours tried (each costs one run when it passes, the usual outcome).
MAX_TRIES = 8

Run = Callable[[list[OrderPlan], Schedule], Any]


def spilling(schedule: Schedule) -> list[ScheduledFault]:
    """The entries whose fault acts on whatever is in flight at its target."""
    kinds = fault_kinds()
    out = []
    for entry in schedule.faults:
        cls = kinds.get(str(entry.fault.get("kind")))
        if cls is not None and cls.spills:
            out.append(entry)
    return out


def suspect(plans: Sequence[OrderPlan], schedule: Schedule) -> bool:
    """Whether the case's failure may hang on timing: a fault that spills lands on
    whatever its target holds then, another order's events or this order's other
    branch (a kill of payment after its capture, racing inventory's rejection to the
    refund: cancel-first's one-order find replayed 4 times in 5); a kill after an ack
    races what the participant did next (``message_crash`` spills)."""
    return bool(plans) and bool(spilling(schedule))


def after_ack(schedule: Schedule) -> list[ScheduledFault]:
    """The entries that kill a participant once its ack is on the wire."""
    return [e for e in schedule.faults if e.fault.get("kind") == "message_crash"
            and (e.fault.get("params") or {}).get("moment") == "after_ack"]  # fmt: skip


def _cut(plans: Sequence[OrderPlan], schedule: Schedule, choreo: Choreography
         ) -> Iterator[tuple[list[OrderPlan], Schedule]]:  # fmt: skip
    """For each crash after an ack: its order alone, the crash replaced by a crash of
    the same participant as it publishes each later event of the order's path that it
    publishes (the doer of the step the event reports), the other faults kept."""
    by_id = {p.order_id: p for p in plans}
    for entry in after_ack(schedule):
        params = entry.fault.get("params") or {}
        who = str(entry.fault.get("target") or "").removeprefix(PARTICIPANT)
        plan = by_id.get(str(params.get("order_id"))) or (plans[0] if len(plans) == 1 else None)
        path = PATHS.get(plan.intent, ()) if plan is not None else ()
        if plan is None or params.get("event") not in path:
            continue
        rest = tuple(e for e in schedule.faults if e is not entry
                     and (e.fault.get("params") or {}).get("order_id") in (None, plan.order_id))  # fmt: skip
        for event in path[path.index(str(params["event"])) + 1:]:
            step = STEP_OF.get(event)
            if step is None or who not in step_doers(choreo, plan.intent, step):
                continue
            crash = {"kind": "message_publish_crash", "target": f"{PARTICIPANT}{who}",
                     "params": {"event": event, "order_id": plan.order_id}}  # fmt: skip
            fault = ScheduledFault(crash, at=0.0, duration=hold("message_publish_crash"),
                                   may_not_fire=True)  # fmt: skip
            yield [plan], Schedule((*rest, fault))


def _hit(choreo: Choreography, entry: ScheduledFault, intent: str) -> list[str]:
    """The participants a spilling fault stops or slows for an order of ``intent``: the
    one it targets, else those whose steps call the service it targets, else every one
    that acts (a fault on the broker or on an orchestrator)."""
    target = str(entry.fault.get("target") or "")
    if target.startswith(PARTICIPANT):
        return [target.removeprefix(PARTICIPANT)]
    doers = sorted({d for step, svc, _m, _p in STEPS if svc == target
                    for d in step_doers(choreo, intent, step)})  # fmt: skip
    return doers or sorted(n for n in choreo.takes if n != choreo.view)


def neighbours(
    plans: Sequence[OrderPlan], schedule: Schedule, result: Any, choreo: Choreography
) -> Iterator[tuple[list[OrderPlan], Schedule]]:
    """One-order cases near a racy one: for a crash after an ack, its order with each
    later publish of that participant crashed instead (``_cut``); then each order the
    violations name (then each the spilling faults are aimed at), alone, with each
    event of its path that a hit participant takes held back from it, in path order."""
    yield from _cut(plans, schedule, choreo)
    by_id = {p.order_id: p for p in plans}
    spills = spilling(schedule)
    aimed = [aimed_at(e, plans) for e in spills]
    orders = [o for o in sorted(named(result)) if o in by_id]
    orders += [o for o in aimed if o is not None and o in by_id and o not in orders]
    seen: set[tuple[str, str, str]] = set()
    for oid in orders:
        plan = by_id[oid]
        for entry in spills:
            for who in _hit(choreo, entry, plan.intent):
                for event in PATHS.get(plan.intent, ())[1:]:
                    if event not in choreo.takes.get(who, ()) or (oid, who, event) in seen:
                        continue
                    seen.add((oid, who, event))
                    late = {"kind": "message_late", "target": "broker",
                            "params": {"event": event, "consumer": who, "order_id": oid,
                                       "delay_ms": max(late_ms(choreo.ack_wait))}}  # fmt: skip
                    fault = ScheduledFault(late, at=0.0,
                                           duration=hold("message_late", choreo.ack_wait),
                                           may_not_fire=True)  # fmt: skip
                    yield [plan], Schedule((fault,))


def _fails(plans: list[OrderPlan], schedule: Schedule, run: Run, times: int) -> Any:
    """The last of ``times`` runs if every one failed, else None (at the first pass)."""
    last = None
    for _ in range(times):
        last = run(plans, schedule)
        if last.ok:
            return None
    return last


def steadied(
    plans: Sequence[OrderPlan], schedule: Schedule, result: Any, run: Run,
    choreo: Choreography | None,
) -> tuple[Any, int, int]:  # fmt: skip
    """What to report for a confirmed case whose last failing run is ``result``: that
    run, or a steady neighbour's last failing run (see the module docstring); with how
    many of the case's runs failed, of how many (2 of 2 when it was not replayed)."""
    if choreo is None or not suspect(plans, schedule):
        return result, 2, 2
    failed, runs = 2, 2
    for _ in range(REPLAYS):
        again = run(list(plans), schedule)
        runs += 1
        if not again.ok:
            failed, result = failed + 1, again
    if failed == runs:
        return result, failed, runs
    steady = steady_neighbour(plans, schedule, result, run, choreo)
    if steady is not None:
        return steady, REPLAYS + 2, REPLAYS + 2
    return result, failed, runs


def steady_neighbour(
    plans: Sequence[OrderPlan], schedule: Schedule, result: Any, run: Run,
    choreo: Choreography | None,
) -> Any | None:  # fmt: skip
    """The last run of the first neighbour (``neighbours``) that fails on every one of
    ``REPLAYS`` + 2 runs, else None. Also for a find that never failed again, whole or
    any order of it alone: reported as it was, it replayed 0 times in 5 (cancel-first,
    five orders, two participants killed in one example)."""
    if choreo is None or not plans:
        return None
    for tried, (near_plans, near_schedule) in enumerate(neighbours(plans, schedule, result, choreo)):
        if tried >= MAX_TRIES:
            break
        steady = _fails(near_plans, near_schedule, run, REPLAYS + 2)
        if steady is not None:
            return steady
    return None
