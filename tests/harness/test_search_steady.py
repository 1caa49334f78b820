"""A racy witness gives way to a steady neighbour before it is reported
(harness/search/steady.py). Draws only: the runs here are a function of the case, so
what is replayed and what is tried can be checked exactly."""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from fracas.fakes.world import build_world
from fracas.harness.faults.base import fault_kinds
from fracas.harness.run.schedule import Schedule, ScheduledFault
from fracas.harness.run.workload import OrderPlan, make_order
from fracas.harness.search.messages import Choreography
from fracas.harness.search.steady import (
    REPLAYS,
    neighbours,
    steadied,
    steady_neighbour,
    suspect,
)

#: The bundled choreography's table, as its participants declare it.
_TABLE = tomllib.loads((Path(__file__).parents[2] / "examples/choreography/pyproject.toml")
                       .read_text())["tool"]["fracas"]["choreography"]  # fmt: skip
CHOREO = Choreography.of({p["name"]: p["consumes"] for p in _TABLE["participants"]}, "orders")


def _orders() -> list[OrderPlan]:
    world, rng = build_world(0), random.Random(1)
    return [make_order(world, i, n + 1, rng) for n, i in enumerate(["ok", "out_of_stock", "ok"])]


def _crash(order: OrderPlan) -> ScheduledFault:
    fault = {"kind": "message_crash", "target": "participant:payment",
             "params": {"event": "customer.checked", "moment": "before_ack",
                        "order_id": order.order_id}}  # fmt: skip
    return ScheduledFault(fault, at=0.0, duration=1.0, may_not_fire=True)


@dataclass
class _Violation:
    order_id: str


@dataclass
class _Verdict:
    violations: list[_Violation]


@dataclass
class _Run:
    ok: bool
    plans: list[OrderPlan]
    schedule: Schedule
    verdict: _Verdict = field(default_factory=lambda: _Verdict([]))


def _late(schedule: Schedule) -> tuple[str, str, str] | None:
    (entry,) = schedule.faults if len(schedule) == 1 else (None,)
    if entry is None or entry.fault["kind"] != "message_late":
        return None
    p = entry.fault["params"]
    return p["order_id"], p["consumer"], p["event"]


def test_what_spills_is_stated_by_each_kind() -> None:
    spills = {k for k, cls in fault_kinds().items() if cls.spills}
    assert {"kill", "pause", "restart", "latency", "limit_data", "down", "message_crash",
            "message_pause", "message_publish_crash"} <= spills  # fmt: skip
    # aimed at one message or one request: no timing between orders in them
    assert not spills & {"message_late", "message_duplicate", "message_reorder",
                         "message_lost_puback", "drop", "delay", "resubmit"}  # fmt: skip


def test_a_case_with_a_spilling_fault_is_suspect_with_one_order_or_several() -> None:
    """A kill lands on whatever its target holds then: another order's events, or this
    order's other branch (payment killed after an out-of-stock order's capture races
    inventory's rejection to the refund: a cancel-first find replayed 4 times in 5)."""
    a, b, _ = _orders()
    assert suspect([a, b], Schedule((_crash(a),)))
    assert suspect([a], Schedule((_crash(a),)))
    late = next(neighbours([a, b], Schedule((_crash(a),)), None, CHOREO))[1]
    assert not suspect([a, b], late) and not suspect([a], late)


def test_a_one_order_race_gives_way_to_its_order_with_an_event_held_back() -> None:
    _, b, _ = _orders()  # out of stock
    schedule = Schedule((_crash(b),))
    found = _Run(False, [b], schedule, _Verdict([_Violation(b.order_id)]))
    assert [_late(s) for _, s in neighbours([b], schedule, found, CHOREO)] == [
        (b.order_id, "payment", "customer.checked"), (b.order_id, "payment", "inventory.rejected"),
    ]  # fmt: skip
    runs: list[object] = []

    def run(plans: list[OrderPlan], s: Schedule) -> _Run:
        runs.append(_late(s))
        if _late(s) is None:  # the race: passes one replay in three
            return _Run(len(runs) == 2, plans, s, found.verdict)
        fails = _late(s) == (b.order_id, "payment", "customer.checked")
        return _Run(not fails, plans, s, _Verdict([_Violation(b.order_id)] if fails else []))

    result, failed, total = steadied([b], schedule, found, run, CHOREO)
    assert _late(result.schedule) == (b.order_id, "payment", "customer.checked")
    assert (failed, total) == (REPLAYS + 2, REPLAYS + 2) and not result.ok


def test_a_find_that_never_failed_again_is_given_its_steady_neighbour() -> None:
    """What the search reports for a find that neither Hypothesis's replay nor any of its
    orders alone repeated (five orders, two participants killed: replayed 0 times in 5
    as it was): the first neighbour that fails every time, else nothing."""
    a, b, c = _orders()
    schedule = Schedule((_crash(a),))
    found = _Run(False, [a, b, c], schedule, _Verdict([_Violation(b.order_id)]))

    def run(plans: list[OrderPlan], s: Schedule) -> _Run:
        fails = _late(s) == (b.order_id, "payment", "inventory.rejected")
        return _Run(not fails, plans, s, _Verdict([_Violation(b.order_id)] if fails else []))

    steady = steady_neighbour([a, b, c], schedule, found, run, CHOREO)
    assert steady is not None and _late(steady.schedule) == (
        b.order_id, "payment", "inventory.rejected")
    assert steady_neighbour([a, b, c], schedule, found, run, None) is None
    assert steady_neighbour([a, b, c], schedule, found,
                            lambda plans, s: _Run(True, plans, s, _Verdict([])), CHOREO) is None


def test_neighbours_hold_back_each_event_a_hit_participant_takes_named_order_first() -> None:
    a, b, c = _orders()
    schedule = Schedule((_crash(a),))
    failed = _Run(False, [a, b, c], schedule, _Verdict([_Violation(b.order_id)]))
    near = list(neighbours([a, b, c], schedule, failed, CHOREO))
    assert all(len(plans) == 1 and _late(s) is not None for plans, s in near)
    assert [_late(s) for _, s in near] == [
        # the named order (out of stock): what payment takes of its path, in path order
        (b.order_id, "payment", "customer.checked"), (b.order_id, "payment", "inventory.rejected"),
        # then the order the crash is aimed at (ok)
        (a.order_id, "payment", "customer.checked"),
    ]  # fmt: skip
    # a cut link to the payment service hits the participant that calls it
    link = ScheduledFault({"kind": "limit_data", "target": "payment", "params": {"bytes": 900}},
                          at=0.0)  # fmt: skip
    failed = _Run(False, [a, b], Schedule((link,)), _Verdict([_Violation(b.order_id)]))
    assert {_late(s)[1] for _, s in neighbours([a, b], Schedule((link,)), failed, CHOREO)} == {"payment"}  # type: ignore[index]


def test_a_racy_case_gives_way_to_the_neighbour_that_fails_every_time() -> None:
    a, b, c = _orders()
    schedule = Schedule((_crash(a),))
    found = _Run(False, [a, b, c], schedule, _Verdict([_Violation(b.order_id)]))
    runs: list[object] = []

    def run(plans: list[OrderPlan], s: Schedule) -> _Run:
        runs.append(_late(s) or len(plans))
        if len(plans) == 3:  # the race: fails one time in two
            return _Run(len(runs) % 2 == 0, plans, s, found.verdict)
        fails = _late(s) == (b.order_id, "payment", "customer.checked")
        return _Run(not fails, plans, s, _Verdict([_Violation(b.order_id)] if fails else []))

    result, failed, total = steadied([a, b, c], schedule, found, run, CHOREO)
    assert [p.order_id for p in result.plans] == [b.order_id] and not result.ok
    assert _late(result.schedule) == (b.order_id, "payment", "customer.checked")
    assert (failed, total) == (REPLAYS + 2, REPLAYS + 2)
    assert runs[:REPLAYS] == [3] * REPLAYS  # the case replayed first, then its neighbour
    assert runs[REPLAYS:] == [(b.order_id, "payment", "customer.checked")] * (REPLAYS + 2)


def test_a_case_that_fails_every_replay_is_reported_as_it_is() -> None:
    a, b, _ = _orders()
    schedule = Schedule((_crash(a),))
    found = _Run(False, [a, b], schedule, _Verdict([_Violation(b.order_id)]))
    runs: list[int] = []

    def run(plans: list[OrderPlan], s: Schedule) -> _Run:
        runs.append(len(plans))
        return _Run(False, plans, s, found.verdict)

    result, failed, total = steadied([a, b], schedule, found, run, CHOREO)
    assert result.plans == [a, b] and (failed, total) == (2 + REPLAYS, 2 + REPLAYS)
    assert runs == [2] * REPLAYS


def test_no_steady_neighbour_leaves_the_case_with_its_count() -> None:
    a, b, _ = _orders()
    schedule = Schedule((_crash(a),))
    found = _Run(False, [a, b], schedule, _Verdict([_Violation(b.order_id)]))
    flips = iter([True, False, True])

    def run(plans: list[OrderPlan], s: Schedule) -> _Run:
        ok = next(flips) if len(plans) == 2 else True  # no neighbour fails
        return _Run(ok, plans, s, found.verdict)

    result, failed, total = steadied([a, b], schedule, found, run, CHOREO)
    assert not result.ok and result.plans == [a, b] and (failed, total) == (3, 2 + REPLAYS)


def test_nothing_is_replayed_for_an_orchestrator_or_a_case_with_nothing_that_spills() -> None:
    a, b, _ = _orders()
    found = _Run(False, [a, b], Schedule((_crash(a),)), _Verdict([]))

    def run(plans: list[OrderPlan], s: Schedule) -> _Run:
        raise AssertionError("no run expected")

    assert steadied([a, b], found.schedule, found, run, None) == (found, 2, 2)
    late = next(neighbours([a, b], found.schedule, None, CHOREO))[1]
    assert steadied([a], late, found, run, CHOREO) == (found, 2, 2)


def _after_ack(order: OrderPlan) -> ScheduledFault:
    fault = {"kind": "message_crash", "target": "participant:payment",
             "params": {"event": "customer.checked", "moment": "after_ack",
                        "order_id": order.order_id}}  # fmt: skip
    return ScheduledFault(fault, at=0.0, duration=1.0, may_not_fire=True)


def _published(schedule: Schedule) -> tuple[str, str] | None:
    (entry,) = schedule.faults if len(schedule) == 1 else (None,)
    if entry is None or entry.fault["kind"] != "message_publish_crash":
        return None
    return str(entry.fault["target"]), entry.fault["params"]["event"]


def test_a_kill_after_an_ack_gives_way_to_a_crash_at_each_later_publish() -> None:
    """One order, payment killed once its ack of ``customer.checked`` is on the wire: the
    kill races what payment does next, so the case is suspect alone, and its neighbours
    crash payment as it publishes each later event of the order that it publishes (an
    out-of-stock order's capture, then its refund). The first that fails every time is
    the witness (no-outbox's fourth seed at 483200e replayed 3 times in 5)."""
    _, b, _ = _orders()  # out of stock
    schedule = Schedule((_after_ack(b),))
    assert suspect([b], schedule)
    near = [_published(s) for _, s in neighbours([b], schedule, None, CHOREO)]
    assert near[:2] == [("participant:payment", "payment.captured"),
                        ("participant:payment", "payment.refunded")]  # fmt: skip
    found = _Run(False, [b], schedule, _Verdict([_Violation(b.order_id)]))
    runs: list[object] = []

    def run(plans: list[OrderPlan], s: Schedule) -> _Run:
        runs.append(_published(s))
        if _published(s) is None:  # the race: passes one replay in three
            return _Run(len(runs) == 2, plans, s, found.verdict)
        fails = _published(s) == ("participant:payment", "payment.refunded")
        return _Run(not fails, plans, s, _Verdict([_Violation(b.order_id)] if fails else []))

    result, failed, total = steadied([b], schedule, found, run, CHOREO)
    assert _published(result.schedule) == ("participant:payment", "payment.refunded")
    assert (failed, total) == (REPLAYS + 2, REPLAYS + 2) and not result.ok
    assert runs == [None] * REPLAYS + [("participant:payment", "payment.captured")] \
        + [("participant:payment", "payment.refunded")] * (REPLAYS + 2)
