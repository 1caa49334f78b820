"""A failing packed example is split by order before Hypothesis shrinks it
(harness/search/split.py): each order that carries a fault runs alone with its faults,
and the first part that fails twice is the smallest case. Draws only: the runs here are
a function of the case, so what is split and what is run can be checked exactly."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from fracas.fakes.world import build_world
from fracas.harness.run.schedule import RequestMatch, Schedule, ScheduledFault
from fracas.harness.run.workload import OrderPlan, make_order
from fracas.harness.search.split import (
    READABLE,
    aimed_at,
    first_failing_part,
    first_find,
    parts,
    thinned,
)


def _orders() -> list[OrderPlan]:
    world, rng = build_world(0), random.Random(1)
    return [make_order(world, i, n + 1, rng) for n, i in enumerate(["ok", "declined", "ok"])]


def _rule(order: OrderPlan) -> ScheduledFault:
    fault = {"kind": "drop", "target": "payment",
             "params": {"path": "/payments", "method": "POST", "order_id": order.order_id}}  # fmt: skip
    return ScheduledFault(fault, at=0.0)


def _crash_at(order: OrderPlan) -> ScheduledFault:
    when = RequestMatch("payment", "/payments", "POST", order.order_id, 1, "before_commit")
    return ScheduledFault({"kind": "kill", "target": "orchestrator", "params": {}}, when=when)


def _customer_rule(order: OrderPlan) -> ScheduledFault:
    fault = {"kind": "drop", "target": "crm",
             "params": {"path": f"/customers/{order.order['customer_id']}", "method": "GET"}}  # fmt: skip
    return ScheduledFault(fault, at=0.0)


@dataclass
class _Verdict:
    ok: bool


def test_each_order_with_a_fault_is_a_part_of_its_own() -> None:
    a, b, c = _orders()
    schedule = Schedule((_rule(a), _crash_at(b), _customer_rule(b)))
    assert [aimed_at(e, [a, b, c]) for e in schedule.faults] == [a.order_id, b.order_id, b.order_id]
    split = parts([a, b, c], schedule)
    assert [([p.order_id for p in plans], len(s)) for plans, s in split] == [
        ([a.order_id], 1), ([b.order_id], 2)]  # c carries no fault: in no part
    # one order with faults: nothing to split; a fault aimed at no order: it may need all
    assert parts([a, b], Schedule((_rule(a),))) == []
    loose = ScheduledFault({"kind": "latency", "target": "payment", "params": {}}, at=0.0)
    assert parts([a, b], Schedule((_rule(a), _rule(b), loose))) == []


def test_the_first_part_that_fails_twice_is_the_case() -> None:
    a, b, c = _orders()
    schedule = Schedule((_rule(a), _crash_at(b), _rule(c)))
    runs: list[str] = []

    def run(plans: list[OrderPlan], s: Schedule) -> _Verdict:
        oid = plans[0].order_id
        runs.append(oid)
        # b fails only once (a race): not the case; c fails every time
        return _Verdict(ok=oid == a.order_id or (oid == b.order_id and runs.count(oid) > 1))

    found = first_failing_part([a, b, c], schedule, run)
    assert found is not None
    plans, s, verdict, tried = found
    assert [p.order_id for p in plans] == [c.order_id] and len(s) == 1 and not verdict.ok
    assert not tried  # no stuck order: the parts are run first, thinned after
    assert runs == [a.order_id, b.order_id, b.order_id, c.order_id, c.order_id]
    assert first_failing_part([a, b], Schedule((_rule(a), _rule(b))),
                              lambda p, s: _Verdict(ok=True)) is None  # fmt: skip


def test_a_first_failure_no_part_of_which_fails_is_run_again_whole() -> None:
    """No order alone fails: the whole case runs again. Failing again, it is a find to
    shrink ("again"); passing, it hung on timing between its orders ("unrepeated"),
    which the search keeps while it looks for one that fails again."""
    a, b, c = _orders()
    schedule = Schedule((_rule(a), _crash_at(b)))
    for whole_fails, expected in ((True, "again"), (False, "unrepeated")):
        runs: list[int] = []

        def run(plans: list[OrderPlan], s: Schedule, fails: bool = whole_fails,
                runs: list[int] = runs) -> _Verdict:  # fmt: skip
            runs.append(len(plans))
            return _Verdict(ok=not (fails and len(plans) == 3))

        assert first_find([a, b, c], schedule, run) == (expected, None)
        assert runs == [1, 1, 3]  # each part once (neither failed), then the whole
    # a part that fails twice is the find, and the whole is not run again
    schedule = Schedule((_rule(a), _rule(c)))
    what, part = first_find([a, b, c], schedule, lambda p, s: _Verdict(ok=len(p) == 1 and p[0] is a))
    assert what == "part" and part is not None and part[0] == [c]


def test_a_big_find_no_part_of_which_fails_is_kept_while_the_search_goes_on() -> None:
    """A capture slowed past the orchestrator's timeout by a pause another order set
    off, on a loaded machine, failed again whole and in no part: Hypothesis could not
    make its five orders and nine faults smaller. Beyond ``READABLE`` such a find is
    "together" (kept while the plan goes on), within it "again" (Hypothesis shrinks)."""
    world, rng = build_world(0), random.Random(1)
    plans = [make_order(world, "ok", n + 1, rng) for n in range(READABLE[0] + 1)]

    def only_whole(case: list[OrderPlan]):  # noqa: ANN202
        """Runs that fail with every order of ``case`` and with no fewer."""
        return lambda p, s: _Verdict(ok=len(p) < len(case))

    faults = Schedule(tuple(_rule(p) for p in plans))
    assert len(faults) > READABLE[1]
    assert first_find(plans, faults, only_whole(plans)) == ("together", None)
    small = plans[:READABLE[0]]
    assert first_find(small, Schedule(tuple(_rule(p) for p in small)),
                      only_whole(small)) == ("again", None)  # fmt: skip


def _answers(order: OrderPlan, n: int) -> list[ScheduledFault]:
    """``n`` distinct HTTP rules on one order's capture, as an HTTP member's run of
    answers draws them."""
    kinds = ["drop", "status", "malformed", "reset", "drop"]
    return [ScheduledFault({"kind": kinds[i], "target": "payment",
                            "params": {"path": "/payments", "method": "POST",
                                       "order_id": order.order_id, "times": i + 1}}, at=0.0)
            for i in range(n)]  # fmt: skip


def test_a_failing_part_is_thinned_to_the_faults_it_needs() -> None:
    """One order's faults come in runs (an HTTP member meets every answer of its family):
    a 5xx found behind three other answers was reported with all of them, Hypothesis's
    shrinking budget spent. The part keeps the first fault that fails alone (twice), else
    drops each fault whose leaving out still fails, in order."""
    (a, _, _) = _orders()
    faults = _answers(a, 4)
    runs: list[int] = []

    def needs(*wanted: int):  # noqa: ANN202 - a run that fails iff the wanted faults are in
        def run(plans: list[OrderPlan], s: Schedule) -> _Verdict:
            runs.append(len(s))
            return _Verdict(ok=not all(faults[i] in s.faults for i in wanted))
        return run

    got = thinned([a], Schedule(tuple(faults)), _Verdict(ok=False), needs(2))
    assert got[1].faults == (faults[2],) and not got[2].ok
    assert runs == [1, 1, 1, 1]  # two alone that pass, then the one that fails twice
    runs.clear()
    got = thinned([a], Schedule(tuple(faults)), _Verdict(ok=False), needs(1, 3))
    assert got[1].faults == (faults[1], faults[3])  # the pair, in its order
    assert runs == [1, 1, 1, 1, 3, 3, 2, 2, 2]  # four alone; less 0 fails, less 1 passes,
    runs.clear()                                  # less 2 fails: a pair is left
    # nothing can go: the case itself, and a single fault is not run at all
    whole = Schedule(tuple(faults[:2]))
    assert thinned([a], whole, _Verdict(ok=False), needs(0, 1))[1] == whole
    assert thinned([a], Schedule((faults[0],)), _Verdict(ok=False), needs(0))[1].faults == (
        faults[0],)
    assert runs == [1, 1]


def test_a_first_failure_whose_faults_are_all_on_one_order_is_that_order_thinned() -> None:
    """No part to split (one order carries every fault), yet the case may hold orders
    without faults and faults the failure does not need: the order alone, thinned."""
    a, b, c = _orders()
    faults = _answers(b, 3)
    schedule = Schedule(tuple(faults))

    def run(plans: list[OrderPlan], s: Schedule) -> _Verdict:
        return _Verdict(ok=faults[1] not in s.faults)

    what, part = first_find([a, b, c], schedule, run)
    assert what == "part" and part is not None
    assert part[0] == [b] and part[1].faults == (faults[1],)
    # every fault needed and no other order: nothing smaller, so "again"
    assert first_find([b], Schedule((faults[1],)), run) == ("again", None)


@dataclass
class _Named:
    """A run's result whose violations name orders (``coupled`` reads them)."""

    ok: bool
    names: tuple[str, ...] = ()
    rule: str = "failed-ledger"

    @property
    def verdict(self) -> object:
        violations = [type("V", (), {"order_id": n, "rule": self.rule})() for n in self.names]
        return type("Verdict", (), {"violations": violations})()


def _needs_both(a: OrderPlan, c: OrderPlan, runs: list[list[str]]):  # noqa: ANN202
    """A run that fails, naming ``c``, iff both orders are in it (two orders of one
    customer); each run's order ids go to ``runs``."""

    def run(plans: list[OrderPlan], s: Schedule) -> _Named:
        ids = [p.order_id for p in plans]
        runs.append(ids)
        both = a.order_id in ids and c.order_id in ids
        return _Named(ok=not both, names=(c.order_id,) if both else ())

    return run


def test_an_order_that_needs_another_of_its_customer_keeps_it() -> None:
    """A message keyed by customer reaches one of two orders of one customer: neither
    alone fails, and split by order the case went to Hypothesis and was reported with
    four orders and six faults. The orders the violations name, with their customer's
    other orders and the faults aimed at them, are the part tried next."""
    a, b, c = _orders()
    c.order["customer_id"] = a.order["customer_id"]
    schedule = Schedule((_rule(a), _rule(b), _customer_rule(b)))
    runs: list[list[str]] = []
    run = _needs_both(a, c, runs)

    what, part = first_find([a, b, c], schedule, run)
    assert what == "part" and part is not None
    plans, kept, result = part
    assert [p.order_id for p in plans] == [a.order_id, c.order_id]
    assert kept.faults == (schedule.faults[0],) and not result.ok
    # each faulted order alone, the whole again, then the pair twice (a single fault:
    # nothing to thin)
    assert runs[:5] == [[a.order_id], [b.order_id], [o.order_id for o in (a, b, c)],
                        [a.order_id, c.order_id], [a.order_id, c.order_id]]  # fmt: skip


@pytest.mark.parametrize("crash", [False, True], ids=["rule", "crash"])
def test_the_parts_whose_faults_reach_most_named_orders_run_first(crash: bool) -> None:
    """The violations say which orders failed: a stuck order's part came fourth of
    five, after three parts that passed (a few seconds each). After two crashes of the
    orchestrator, set off by the last order's steps, every order was stuck and named: a
    crash reaches every order, a rule only its own."""
    a, b, c = _orders()
    schedule = Schedule((_rule(a), _rule(b), _crash_at(c) if crash else _rule(c)))
    runs: list[str] = []

    def run(plans: list[OrderPlan], s: Schedule) -> _Verdict:
        runs.append(plans[0].order_id)
        return _Verdict(ok=plans[0] is not c)

    blamed = (a.order_id, b.order_id, c.order_id) if crash else (c.order_id,)
    found = first_failing_part([a, b, c], schedule, run, _Named(ok=False, names=blamed))
    assert found is not None and found[0] == [c]
    assert runs == [c.order_id, c.order_id]


def test_among_parts_of_equal_reach_a_named_orders_own_part_runs_first() -> None:
    """Crashes of the orchestrator reach every order, so they tie on reach: the stuck
    order's own crashes ran fourth, after three parts that passed (5 s of a liveness
    search). The named order's own part breaks the tie."""
    a, b, c = _orders()
    schedule = Schedule((_crash_at(a), _crash_at(b), _crash_at(c)))
    runs: list[str] = []

    def run(plans: list[OrderPlan], s: Schedule) -> _Verdict:
        runs.append(plans[0].order_id)
        return _Verdict(ok=plans[0] is not c)

    found = first_failing_part([a, b, c], schedule, run, _Named(ok=False, names=(c.order_id,)))
    assert found is not None and found[0] == [c]
    assert runs == [c.order_id, c.order_id]


def test_an_order_a_cut_of_another_orders_fake_failed_keeps_that_order() -> None:
    """A timeout toxic on the payment proxy, set off by one order's step, declined another
    order's capture: neither alone failed, and the case went to Hypothesis whole. The
    orders that carry a network or process fault on a fake the named order calls (or on
    the orchestrator) come with it; an HTTP rule aims at its own order only."""
    a, b, c = _orders()
    cut = ScheduledFault({"kind": "timeout", "target": "payment", "params": {"timeout_ms": 100}},
                         when=RequestMatch("payment", "/payments", "POST", a.order_id, 1,
                                           "after_commit"), duration=1.0)  # fmt: skip
    schedule = Schedule((cut, _rule(b), _rule(c)))

    def run(plans: list[OrderPlan], s: Schedule) -> _Named:
        ids = {p.order_id for p in plans}
        both = {a.order_id, c.order_id} <= ids and cut in s.faults
        return _Named(ok=not both, names=(c.order_id,) if both else ())

    what, part = first_find([a, b, c], schedule, run)
    assert what == "part" and part is not None
    assert [p.order_id for p in part[0]] == [a.order_id, c.order_id]
    assert part[1].faults == (cut,)  # c's own rule thinned away: the cut fails alone


def test_a_coupled_part_sheds_the_orders_its_thinned_faults_left_behind() -> None:
    """Two orders of one customer, and a third that came along for a cut of a fake the
    named order calls: thinned, the cut went, and the case was reported with the third
    order still in it. It is left out once it carries no fault, if the rest fails twice."""
    a, b, c = _orders()
    d = make_order(build_world(0), "declined", 4, random.Random(4))  # on its own
    c.order["customer_id"] = a.order["customer_id"]
    cut = ScheduledFault({"kind": "timeout", "target": "payment", "params": {"timeout_ms": 100}},
                         when=RequestMatch("payment", "/payments", "POST", b.order_id, 1,
                                           "after_commit"), duration=1.0)  # fmt: skip
    schedule = Schedule((_rule(a), cut, _rule(d)))
    runs: list[list[str]] = []
    run = _needs_both(a, c, runs)

    what, part = first_find([a, b, c, d], schedule, run)
    assert what == "part" and part is not None
    assert [p.order_id for p in part[0]] == [a.order_id, c.order_id]
    assert part[1].faults == (schedule.faults[0],) and not part[2].ok


def test_a_stuck_orders_part_tries_each_fault_alone_before_it_runs_whole() -> None:
    """A run that shows a stuck order waits out the quiet period, one that passes takes
    a second: so for a liveness find each fault of a part runs alone first. A crash
    while resuming follows every crash of the orchestrator, and a restart that leaves a
    running order alone shows with the first crash alone: two stuck runs, not the
    part's two and then the crash's two (75 s of a 26 s find's search)."""
    a, b, c = _orders()
    first, second = _crash_at(c), _crash_at(c)
    second = ScheduledFault(second.fault, when=RequestMatch("inventory", "/reservations", "POST",
                                                            c.order_id, 1, "before_commit"))  # fmt: skip
    schedule = Schedule((_rule(a), first, second))
    runs: list[tuple[str, int]] = []

    def run(plans: list[OrderPlan], s: Schedule) -> _Named:
        runs.append((plans[0].order_id, len(s.faults)))
        stuck = plans[0] is c and first in s.faults
        return _Named(ok=not stuck, names=(c.order_id,) if stuck else (), rule="liveness")

    found = first_failing_part([a, b, c], schedule, run, _Named(False, (c.order_id,), "liveness"))
    assert found is not None
    plans, s, _, tried = found
    assert plans == [c] and s.faults == (first,) and tried
    assert runs == [(c.order_id, 1), (c.order_id, 1)]  # the first crash alone, twice
    # when only both together fail, the alone runs came first and are not run again
    runs.clear()

    def both(plans: list[OrderPlan], s: Schedule) -> _Named:
        runs.append((plans[0].order_id, len(s.faults)))
        stuck = plans[0] is c and len(s.faults) == 2
        return _Named(ok=not stuck, names=(c.order_id,) if stuck else (), rule="liveness")

    kind, case = first_find([a, b, c], schedule, both, _Named(False, (c.order_id,), "liveness"))
    assert kind == "part" and case is not None and case[1] == Schedule((first, second))
    assert runs == [(c.order_id, 1), (c.order_id, 1), (c.order_id, 2), (c.order_id, 2)]


def test_a_coupled_part_bigger_than_a_glance_is_kept_while_the_plan_goes_on() -> None:
    """A restart set off by one order landed on two others' refunds, and the case failed
    only with a fourth order beside them: its coupled part, four orders, went to
    Hypothesis, which could not make it smaller, and was reported so on a seed whose
    plan held a crash at a refund, unrun. Bigger than READABLE, it is kept ("together",
    with the part) while the plan goes on, as a whole case is."""
    world, rng = build_world(0), random.Random(2)
    orders = [make_order(world, i, n + 1, rng) for n, i in enumerate(["ok"] * 5)]
    crash = ScheduledFault({"kind": "restart", "target": "orchestrator", "params": {}},
                           when=RequestMatch("shipping", "/shipments", "POST",
                                             orders[3].order_id, 1, "after_commit"))  # fmt: skip
    slow = ScheduledFault({"kind": "bandwidth", "target": "payment", "params": {"rate": 1}},
                          when=RequestMatch("payment", "/payments", "POST", orders[1].order_id,
                                            1, "after_commit"))  # fmt: skip
    schedule = Schedule((_rule(orders[0]), slow, crash, _rule(orders[4])))
    named_ids = (orders[0].order_id, orders[4].order_id)
    runs: list[list[str]] = []

    def run(plans: list[OrderPlan], s: Schedule) -> _Named:
        ids = [p.order_id for p in plans]
        runs.append(ids)
        fails = len(plans) >= 4 and crash in s.faults  # timing: four orders at least
        return _Named(ok=not fails, names=named_ids if fails else ())

    what, part = first_find(orders, schedule, run, _Named(False, named_ids))
    assert what == "together" and part is not None
    # the named orders, the crash's and the cut's: four, thinned to the crash alone
    assert [p.order_id for p in part[0]] == [orders[i].order_id for i in (0, 1, 3, 4)]
    assert part[1].faults == (crash,) and not part[2].ok


def test_the_named_orders_with_their_customers_orders_run_before_the_orders_reaching_them() -> None:
    """A message keyed by customer reached one of two orders of one customer; a crash
    of the orchestrator another order carried reaches every order, so the coupled part
    with the orders reaching the named one was every order, and the case was reported
    whole (five orders, ten faults). The customer's orders alone are tried first."""
    a, b, c = _orders()
    c.order["customer_id"] = a.order["customer_id"]
    schedule = Schedule((_rule(a), _crash_at(b), _rule(c)))
    runs: list[list[str]] = []
    run = _needs_both(a, c, runs)

    what, part = first_find([a, b, c], schedule, run, _Named(False, (c.order_id,)))
    assert what == "part" and part is not None
    assert [p.order_id for p in part[0]] == [a.order_id, c.order_id]
    assert [a.order_id, c.order_id] in runs and [o.order_id for o in (a, b, c)] in runs
