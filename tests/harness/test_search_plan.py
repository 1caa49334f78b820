"""The search's coverage plan (issue 17): every example of a run has a shape of its own,
the first ones cover every intent and every step x fault group x phase, the plan is a
fixed function of the seed and the slice, and waits reach past the orchestrator's call
timeout, the late commit among them. Nothing here starts a process: these are draws."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.database import InMemoryExampleDatabase

from fracas.fakes.world import build_world
from fracas.harness.adapters import AdapterError, resolve_spec
from fracas.harness.adapters.base import DEFAULT_CALL_TIMEOUT, call_timeout
from fracas.harness.adapters.select import Declared, adapter_from_spec
from fracas.harness.faults import fault_kinds
from fracas.harness.run.schedule import Schedule, ScheduledFault
from fracas.harness.run.shape import shape_key, shape_of
from fracas.harness.run.slices import Slice
from fracas.harness.run.workload import make_order
from fracas.harness.search.plan import PACK, Cell, Pack, share_of
from fracas.harness.search.split import aimed_at
from fracas.harness.search.strategies import (
    REACHES,
    Workload,
    aimed_faults,
    planned_cells,
    planned_packs,
    planner_for,
    workloads,
)

CAPS_NO_CLOCK = frozenset({"crash", "restart", "pause", "review"})


@pytest.fixture(autouse=True)
def _same_draws_in_any_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests assert what seeded draws produce. Hypothesis draws about one choice in
    twenty from constants it reads out of every local module loaded in the process, so
    the same seed drew otherwise in a CI worker that had run other tests first (two of
    these failed there, 12 examples of 20 and 3 HTTP members of 4, and passed alone).
    The pool is kept to Hypothesis's own constants here, the same in every process."""
    from hypothesis.internal.conjecture import providers

    empty = providers.Constants(integers=providers.SortedSet(),
                                floats=providers.SortedSet(key=providers.float_to_int),
                                bytes=providers.SortedSet(), strings=providers.SortedSet())  # fmt: skip
    monkeypatch.setattr(providers, "_get_local_constants", lambda: empty)
    monkeypatch.setattr(providers, "CONSTANTS_CACHE", providers.LRUCache(1024))


def _own_kinds() -> list[str]:
    """The catalog's kinds that fracas itself defines."""
    from fracas.harness.faults import fault_kinds

    return sorted(k for k, cls in fault_kinds().items() if cls.__module__.startswith("fracas."))


def _slice(
    seed: int,
    index: int,
    count: int,
    examples: int,
    caps: frozenset[str] | None,
    hypothesis_seed: int | None,
    timeout: float,
) -> list[tuple[Workload, Pack | None]]:
    """What slice ``index`` of ``count`` generates, as the property scenario draws it,
    over fracas's own fault kinds: a kind another test registered in this worker (the
    extending guide's ``teapot``) changes the plan and every draw."""
    kinds = _own_kinds()
    planner = planner_for(seed, index, count, caps, kinds)
    strategy = workloads(
        seed=seed, max_orders=5, max_faults=2, capabilities=caps, call_timeout=timeout,
        planner=planner, kinds=kinds,
    )  # fmt: skip
    drawn: list[tuple[Workload, Pack | None]] = []

    @settings(max_examples=examples, database=None, deadline=None,
              suppress_health_check=[HealthCheck.filter_too_much])  # fmt: skip
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        planner.begin()
        w = data.draw(strategy)
        k = planner.ran[-1]
        drawn.append((w, planner.packs[k] if k < len(planner.packs) else None))

    if hypothesis_seed is not None:
        run._hypothesis_internal_use_seed = hypothesis_seed + index  # type: ignore[attr-defined]
    run()
    return drawn


def _search(
    seed: int,
    count: int,
    examples: int,
    caps: frozenset[str] | None = None,
    hypothesis_seed: int | None = None,
    timeout: float = 1.0,
) -> list[list[tuple[Workload, Pack | None]]]:
    """What each of ``count`` slices generates."""
    return [
        _slice(seed, index, count, examples, caps, hypothesis_seed, timeout)
        for index in range(count)
    ]


def _key(w: Workload, timeout: float = 1.0) -> str:
    return shape_key(shape_of(w.plans, w.schedule, timeout))


def test_the_slices_of_a_dev_run_generate_twenty_examples_of_twenty_shapes() -> None:
    """dev's 20 examples over its default 4 slices, each slice from its own random seed:
    no shape twice, within a slice or across them, and no slice but one starts with the
    same simplest example (the first of each slice is its own first cell)."""
    slices = _search(seed=0, count=4, examples=5)
    keys = [_key(w) for drawn in slices for w, _ in drawn]
    assert len(keys) == 20
    assert len(set(keys)) == 20
    firsts = [drawn[0][1] for drawn in slices]
    assert len(set(firsts)) == 4 and all(p is not None for p in firsts)
    # the plan's 2 intent packs lead: 2 slices start with one of them, the others with a step pack
    assert sorted(p[0].tier for p in firsts if p) == ["intent", "intent", "step", "step"]


def test_one_slice_runs_its_whole_budget_over_the_whole_plan() -> None:
    """One slice holds every cell (bench/search.py runs one): a draw that had to hit the
    tier's next cell hit it once in about 2n tries, and Hypothesis stopped the search
    after its invalid-draw limit with 1 to 11 examples of 20 run. Any cell of the tier
    that has not run is taken, so the budget runs whole, every intent first."""
    for hypothesis_seed in (0, 7):
        (drawn,) = _search(seed=0, count=1, examples=20, hypothesis_seed=hypothesis_seed)
        assert len(drawn) == 20
        assert len({_key(w) for w, _ in drawn}) == 20
        tiers = [p[0].tier if p else "free" for _, p in drawn]
        # the plan in its order (2 intent packs, then the step packs), then, if the
        # budget is larger than the plan, free combinations
        plan = [p[0].tier for p in planned_packs(0)]
        assert plan.count("intent") == 2 and plan.count("step") >= 10, plan
        assert tiers == (plan + ["free"] * 20)[:20], " ".join(tiers + ["|"] + plan)


def test_a_seeded_slice_runs_its_budget_with_few_draws_thrown_away() -> None:
    """Hypothesis ends a search after 458 + 100 per example rejected draws. A pack's
    member that asked for a second fault its order could not take (a second review
    decision: only the customer step takes one) threw the example away, and so did
    nearly one pack in two with a member left out by a presence draw: one seed's
    one-slice dev search of the naive orchestrator ran 12 examples of 20, and passed.
    Every seed now runs 20, drawing few more than it runs."""
    for seed in range(5):
        ran, calls = _one_slice_draws(seed)
        assert ran == 20, (seed, ran, calls)
        # (198 to 537 now; 294 to 1,671 before, seed 1 stopping at 12 examples. The
        # planner's own rejections, of packs run already, are most of what is left.)
        assert calls <= 900, (seed, calls)


def _one_slice_draws(seed: int) -> tuple[int, int]:
    """The examples a seeded one-slice dev search of the naive orchestrator's
    capabilities runs, and the draws it took."""
    caps = frozenset({"crash", "restart", "pause", "review", "advance_clock"})
    kinds = _own_kinds()
    planner = planner_for(seed, 0, 1, caps, kinds)
    strategy = workloads(seed=seed, max_orders=5, max_faults=2, capabilities=caps,
                         call_timeout=5.0, planner=planner, kinds=kinds)  # fmt: skip
    calls: list[int] = []

    @settings(max_examples=20, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        calls.append(1)
        planner.begin()
        data.draw(strategy)

    run._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    run()
    return len(planner.ran), len(calls)


def test_the_first_examples_cover_every_intent_then_the_steps() -> None:
    """Whether a budget covers an intent does not depend on luck: the intent packs come
    first, split between the slices, and an order that fails after stock is held
    (undeliverable) is among them; the rest of the budget goes to step packs, each
    member on an order of its own that reaches its step, with its fault aimed there."""
    for seed in (1, 2):  # (a review timeout order was missing from 4 in 100 such before)
        slices = _search(seed=seed, count=4, examples=5)
        intents = [c.intent for drawn in slices for _, p in drawn if p and p[0].tier == "intent"
                   for c in p]  # fmt: skip
        assert sorted(intents) == sorted(
            ["ok", "blocked", "unknown_customer", "declined", "out_of_stock", "undeliverable",
             "review_approve", "review_reject", "review_timeout"]
        )  # fmt: skip
    # Hypothesis's seed too: unseeded, one run in ten or so left more than two process
    # members out (and failed this test now and then, in CI's fresh clones as well)
    slices = _search(seed=3, count=4, examples=5, hypothesis_seed=0)
    steps = [c for drawn in slices for _, p in drawn if p and p[0].tier == "step" for c in p]
    assert len(steps) == len(set(steps)) >= 15 * 3, len(steps)  # step packs of 3 or more
    dropped = 0
    for drawn in slices:
        for w, pack in drawn:
            if pack is None:  # the plan ran whole: a free combination
                continue
            assert len(pack) <= PACK[pack[0].tier]
            assert len(w.plans) <= max(5, PACK["step"])
            for j, cell in enumerate(pack):
                plan = w.plans[j]
                if cell.tier == "intent":
                    assert plan.intent == cell.intent
                else:
                    assert cell.step in REACHES[plan.intent], (cell, plan.intent)
                mine = _faults_of(w, j)
                # a fake's process fault is left out when every fake it could take
                # carries another member's rule (its hits would depend on timing)
                assert mine or cell.group == "process", (cell, w)
                dropped += not mine
    assert dropped <= 2, dropped
    # Without a clock, no review timeout is planned or drawn.
    no_clock = planned_cells(0, CAPS_NO_CLOCK)
    assert "review_timeout" not in {c.intent for c in no_clock}
    assert len([c for c in no_clock if c.tier == "intent"]) == 8


def test_a_budget_of_twenty_runs_nearly_the_whole_plan() -> None:
    """One cell an example ran 20 of 79 cells in a dev budget, so a defect that one or
    two step cells reach was found on a lucky seed only: packed, the budget runs 9 in
    10 of the plan's cells, each slice its share."""
    plan = planned_cells(4)
    slices = _search(seed=4, count=4, examples=5)
    ran = {c for drawn in slices for _, p in drawn if p for c in p}
    assert len(ran) >= 0.85 * len(plan), (len(ran), len(plan))
    packs = planned_packs(4)
    assert sorted(map(str, (c for p in packs for c in p))) == sorted(map(str, plan))
    for pack in packs:  # members apart: steps never shared, the customer read first
        steps = [c.step for c in pack if c.step]
        assert len(steps) == len(set(steps))
        assert "customer" not in steps[1:]


def test_step_cells_also_draw_a_second_fault_on_the_same_order() -> None:
    """Combinations come after every planned cell, which a dev budget never reaches: a
    defect that needs two faults on one order was never drawn. A step member may add a
    fault of its group on its order, so within 20 examples some order takes two."""
    searches = [_search(seed=0, count=1, examples=20, hypothesis_seed=h)[0] for h in range(3)]
    twice = [
        [w for w, pack in drawn if pack is not None and pack[0].tier == "step"
         and any(sum(1 for f in w.schedule.faults if aimed_at(f, w.plans) == p.order_id) == 2
                 for p in w.plans)]
        for drawn in searches
    ]  # fmt: skip
    assert all(twice), [[repr(w) for w, _ in d] for d in searches]


def _faults_of(w: Workload, j: int) -> list[ScheduledFault]:
    """The faults aimed at the workload's ``j``-th order: by its id, or (a CRM read
    carries none) by its customer's path, which names the first order of that customer
    (two orders may share one; the first submitted reads it first)."""
    return [f for f in w.schedule.faults if aimed_at(f, w.plans) == w.plans[j].order_id]


def _bare(cell: Cell) -> Cell:
    """The cell without what the seed hands out in turn: an intent cell's fault group,
    a step cell's preferred kind (a review cell's decision is the cell itself)."""
    if cell.tier == "intent":
        return Cell("intent", intent=cell.intent)
    if cell.group == "review":
        return cell
    return Cell("step", step=cell.step, group=cell.group, phase=cell.phase)


def test_a_groups_cells_bring_each_kind_before_any_twice() -> None:
    """Within each group and phase, the plan's cells hand out the group's kinds in turn
    (in an order the seed shuffles), so the plan's first cells of a group hold every kind
    it allows there before any twice; drawn within the cell, a 5xx after the commit (one
    HTTP kind of four, in one phase of two) came up at example 12 of 20 (issue 17)."""
    for seed in range(6):
        seen: dict[tuple[str, str], list[str]] = {}
        for cell in planned_cells(seed):
            if cell.tier == "step" and cell.kind and cell.group != "review":
                seen.setdefault((str(cell.group), str(cell.phase)), []).append(cell.kind)
        assert {g for g, _ in seen} >= {"http", "network", "crash", "process", "client"}
        for (group, _), got in seen.items():
            if group == "client":
                continue  # its kinds differ by step (the customer's are not POST /orders)
            width = len(set(got))
            firsts = got[:width]
            assert len(set(firsts)) == width, (seed, group, got)
            assert max(got.count(k) for k in set(got)) - min(got.count(k) for k in set(got)) <= 1
        https = [c.kind for c in planned_cells(seed) if c.group == "http"]
        assert {"status", "malformed", "drop", "reset"} <= set(https)
    # and an example carries each member's kind, where its order can take it
    checked = 0
    (drawn,) = _search(seed=3, count=1, examples=12, hypothesis_seed=5)
    for w, pack in drawn:
        for j, cell in enumerate(pack or ()):
            if cell.group in ("http", "network", "crash") and cell.kind:
                mine = _faults_of(w, j)
                assert mine and str(mine[0].fault["kind"]) == cell.kind, (cell, w)
                checked += 1
    assert checked >= 8


def test_the_intent_tier_spreads_its_faults_over_the_groups() -> None:
    """Each intent's fault comes from the groups in turn: drawn freely, 4 intent examples
    in 9 dropped a CRM read's answer (the first step and kind), and the tier that runs
    first barely crashed or delayed anything. Every group a step allows is planned, none
    more than thrice in 9, and the examples drawn for them carry that group's fault."""
    for seed in range(4):
        groups = [c.group for c in planned_cells(seed) if c.tier == "intent"]
        assert set(groups) == {"http", "late", "network", "crash", "process", "client",
                               "review"}, groups
        assert max(groups.count(g) for g in set(groups)) <= 3, groups
    (drawn,) = _search(seed=0, count=1, examples=2, hypothesis_seed=3)
    for w, pack in drawn:
        assert pack is not None and pack[0].tier == "intent"
        for j, cell in enumerate(pack):
            groups = {_group(f) for f in _faults_of(w, j)}
            # (a fake's process fault is left out when every fake it could take carries
            # another member's rule)
            assert groups == {cell.group} or (cell.group == "process" and not groups), (cell, w)


def test_an_http_member_meets_every_answer_of_its_family_in_turn() -> None:
    """One HTTP kind per step and phase left most of a step's answers out of any plan (a
    5xx after a forward step's commit was in none of a seed's, and an orchestrator that
    takes one for a refusal went unfound in 20 examples). An HTTP member's order meets
    its own kind, then the family's others, each once, on the same request and in the
    same phase: every kind at every step and phase the plan holds."""
    covered: set[tuple[str, str, str]] = set()
    (drawn,) = _search(seed=0, count=1, examples=20, hypothesis_seed=1)
    members = 0
    for w, pack in drawn:
        for j, cell in enumerate(pack or ()):
            if cell.group != "http":
                continue
            mine = [f for f in _faults_of(w, j) if _group(f) == "http"]
            where = {(str(f.fault["target"]), f.fault["params"]["path"],
                      f.fault["params"]["phase"]) for f in mine}  # fmt: skip
            kinds = [str(f.fault["kind"]) for f in mine]
            if cell.kind:
                assert kinds[0] == cell.kind, (cell, kinds)
            if len(where) == 1 and len(kinds) == 4:  # (a second fault of its group
                members += 1                           # may aim elsewhere)
            assert {"status", "malformed", "drop", "reset"} <= set(kinds), (cell, kinds)
            covered |= {(str(cell.step), str(cell.phase), k) for k in kinds}
    assert members >= 4
    assert ("reserve", "after_commit", "status") in covered or \
        ("capture", "after_commit", "status") in covered, sorted(covered)


def test_a_second_decision_brings_the_others_of_its_family() -> None:
    """The same decision again and the opposite one, both sent after the first took
    effect, compose on one order: a review member of either sends both (one cell each,
    the opposite decision was one cell of some 80, and came at example 12 of 20)."""
    seen = 0
    for seed in range(4):
        (drawn,) = _search(seed=seed, count=1, examples=20, hypothesis_seed=seed)
        for w, pack in drawn:
            for j, cell in enumerate(pack or ()):
                if cell.group != "review" or cell.kind not in ("review_twice", "review_flip") \
                        or cell.phase != "after_commit":
                    continue
                mine = {str(f.fault["kind"]): f.fault["params"] for f in _faults_of(w, j)
                        if str(f.fault["kind"]).startswith("review_")}  # fmt: skip
                assert set(mine) == {"review_twice", "review_flip"}, (cell, mine)
                assert mine["review_twice"]["later"] is True
                assert mine["review_twice"]["decision"] == mine["review_flip"]["decision"]
                seen += 1
    assert seen >= 2


def _group(entry: ScheduledFault) -> str:
    """The plan's group of a drawn fault."""
    kind, target = str(entry.fault["kind"]), entry.fault["target"]
    if kind == "delay":
        return "late"
    if kind in ("review_twice", "review_flip", "review_late", "review_race"):
        return "review"  # a decision to an order that awaits one
    if kind in ("kill", "restart") and target == "orchestrator":
        return "crash"
    return fault_kinds()[kind].family


def test_a_crash_of_the_orchestrator_is_a_group_of_its_own() -> None:
    """Among the fakes' kills, pauses and restarts, the orchestrator's crash came up
    about once in four process faults: each step x phase has a crash cell, whose
    faults all crash the orchestrator, and the process cells hit the fakes (or pause)."""
    plan = planned_cells(0)
    crash = {(c.step, c.phase) for c in plan if c.group == "crash" and c.tier == "step"}
    process = {(c.step, c.phase) for c in plan if c.group == "process" and c.tier == "step"}
    assert crash and crash == process
    (drawn,) = _search(seed=0, count=1, examples=20, hypothesis_seed=2)
    for w, pack in drawn:
        for j, cell in enumerate(pack or ()):
            if cell.group in ("crash", "process"):
                mine = _faults_of(w, j)  # (none: a fake's process fault left out)
                assert {_group(f) for f in mine} <= {cell.group}, (cell, w)
                assert mine or cell.group == "process", (cell, w)


def test_the_plan_is_a_fixed_function_of_the_seed_and_the_slice() -> None:
    """The same seed gives the same plan and the same split; slices share no cell; and
    the same Hypothesis seed draws the same examples (a replay or a shrink sees the
    draws the search saw). Another seed orders the tiers otherwise."""
    plan = planned_cells(5)
    assert plan == planned_cells(5)
    assert planned_cells(6) != plan and set(map(_bare, planned_cells(6))) == set(map(_bare, plan))
    packs = planned_packs(5)
    shares = [share_of(packs, i, 4) for i in range(4)]
    assert sorted(map(str, sum(shares, ()))) == sorted(map(str, packs))
    assert not set(shares[0]) & set(shares[1])
    assert planner_for(5, 2, 4).packs == shares[2]
    tiers = [c.tier for c in plan]
    assert tiers == sorted(tiers)  # every intent cell before any step cell ("intent" < "step")
    assert [p[0].tier for p in packs] == sorted(p[0].tier for p in packs)
    first = _search(seed=5, count=2, examples=4, hypothesis_seed=11)
    again = _search(seed=5, count=2, examples=4, hypothesis_seed=11)
    assert [[repr(w) for w, _ in d] for d in first] == [[repr(w) for w, _ in d] for d in again]


def test_a_pack_shrinks_to_the_member_that_fails() -> None:
    """Without a planner, a workload is still one of the plan's packs, chosen by a draw,
    and each member can be left out: a failure that needs one member's fault shrinks to
    one order and that one fault."""
    pack = planned_packs(0)[0]
    # (an HTTP member brings a run of answers, which the search's thinning sheds)
    target = next(c for c in reversed(pack) if c.group != "http")
    strategy = workloads(seed=0, max_orders=5, max_faults=2)

    def fails(w: Workload) -> bool:  # "the bug": the last member's fault on an order of its intent
        # (an order of the intent alone also fails in a free combination, whose faults
        # are two at least: the bug must need the member's fault to shrink to it)
        family = {str(f.fault["kind"]): fault_kinds()[str(f.fault["kind"])].family
                  for f in w.schedule.faults}  # fmt: skip
        wanted = {"crash": "process", "late": "http", "review": "client"}.get(target.group, target.group)
        return any(p.intent == target.intent for p in w.plans) and wanted in family.values()

    w = find(strategy, fails, settings=settings(database=None, max_examples=500,
                                                 derandomize=True))  # fmt: skip
    assert [p.intent for p in w.plans] == [target.intent] and len(w.schedule) == 1, w


def _longest_waits(timeout: float) -> dict[str, float]:
    """The longest delay, network window and pause drawn for the cells that draw them."""
    longest: dict[str, float] = {}
    plans = [make_order(build_world(0), "ok", 1, random.Random(1))]
    cells = [Cell("step", step="capture", group=g, phase="before_commit")
             for g in ("late", "network", "process")]  # fmt: skip

    @settings(max_examples=300, database=None, deadline=None, derandomize=True)
    @given(entry=st.sampled_from(cells).flatmap(
        lambda cell: aimed_faults(plans, call_timeout=timeout, cell=cell)))  # fmt: skip
    def draw(entry: ScheduledFault) -> None:
        kind = str(entry.fault["kind"])
        family = fault_kinds()[kind].family
        if kind == "delay":
            wait = float(entry.fault["params"]["ms"]) / 1000
        elif family == "network" or kind == "pause":
            wait = float(entry.duration or 0.0)
        else:
            return
        group = "delay" if kind == "delay" else family if family == "network" else kind
        longest[group] = max(longest.get(group, 0.0), wait)

    draw()
    return longest


def test_waits_reach_past_the_orchestrators_call_timeout() -> None:
    """Delays, pauses and partitions are drawn up to and past the call timeout, at its
    own scale: the same draws with a 3 s timeout reach past 3 s."""
    for timeout in (1.0, 3.0):
        longest = _longest_waits(timeout)
        assert longest["delay"] > timeout, longest
        assert longest["network"] > timeout, longest
        assert longest["pause"] > timeout, longest
        assert max(longest.values()) <= 2.5 * timeout + 0.01, longest


def test_a_late_commit_is_a_shape_of_its_own() -> None:
    """Each step that makes an effect has a late-commit cell: a delay before the commit,
    past the call timeout, once (the client gives up, the request then commits, and the
    retry goes through). Its shape says ``late``, not ``delay``."""
    plan = planned_cells(0)
    late = {c.step for c in plan if c.group == "late" and c.tier == "step"}
    assert late == {"capture", "reserve", "ship", "notify", "release", "refund"}
    assert all(c.phase == "before_commit" for c in plan if c.group == "late")
    world = build_world(0)
    plans = [make_order(world, "undeliverable", 1, random.Random(1))]
    cell = Cell("step", step="capture", group="late", phase="before_commit")
    seen: list[Workload] = []

    @settings(max_examples=30, database=None, deadline=None)
    @given(entry=aimed_faults(plans, call_timeout=2.0, cell=cell))
    def draw(entry) -> None:  # type: ignore[no-untyped-def]
        params = entry.fault["params"]
        assert entry.fault["kind"] == "delay" and entry.fault["target"] == "payment"
        assert params["phase"] == "before_commit" and params["times"] == 1
        assert 2000 < params["ms"] <= 4001
        assert params["order_id"] == "ord-0001" and params["path"] == "/payments"
        shape = shape_of(plans, Schedule((entry,)), 2.0)
        assert shape[1][0][:4] == ("late", "payment", "capture", "before_commit")
        seen.append(entry)

    draw()
    assert seen


def test_the_call_timeout_is_declared_like_the_other_orchestrator_settings(
    tmp_path: Path,
) -> None:
    """``call_timeout`` in ``[tool.fracas.orchestrator]``, else the option or its
    variable; the bundled orchestrator's is its fast profile's 1 s; a command that
    declares none is taken to wait 5 s, as real clients do. Read from one function."""
    project = tmp_path / "pyproject.toml"
    project.write_text('[tool.fracas.orchestrator]\ncommand = ["python", "-m", "x"]\n'
                       "call_timeout = 7\n")  # fmt: skip
    spec = resolve_spec(None, environ={}, pyproject=project)
    assert spec.call_timeout == 7.0 and call_timeout(adapter_from_spec(spec)) == 7.0
    assert json.loads(json.dumps(spec.to_json()))["call_timeout"] == 7.0
    over = resolve_spec(None, environ={"FRACAS_ORCHESTRATOR_CALL_TIMEOUT": "12"}, pyproject=project)
    assert over.call_timeout == 12.0
    flag = resolve_spec("python -m y", environ={}, declared=Declared(call_timeout="3"))
    assert call_timeout(adapter_from_spec(flag)) == 3.0
    plain = resolve_spec("python -m y", environ={})
    assert call_timeout(adapter_from_spec(plain)) == DEFAULT_CALL_TIMEOUT == 5.0
    bundled = resolve_spec("bundled", environ={})
    assert call_timeout(adapter_from_spec(bundled)) == 1.0
    with pytest.raises(AdapterError, match="call_timeout"):
        project.write_text('[tool.fracas.orchestrator]\ncommand = "x"\ncall_timeout = "soon"\n')
        resolve_spec(None, environ={}, pyproject=project)


def test_slices_keep_their_examples_apart_in_the_database() -> None:
    """Under one shared key, every dev slice replayed what the others saved; each slice
    now reads and writes its own keys, and counts what it handed back to replay."""
    shared = InMemoryExampleDatabase()
    one = Slice(0, 4, 111, 5, False).database(shared)
    two = Slice(1, 4, 222, 5, False).database(shared)
    one.save(b"key", b"failure")
    assert list(two.fetch(b"key")) == []
    assert list(one.fetch(b"key")) == [b"failure"]
    assert Slice(0, 4, 111, 5, False).database(shared) is one
    assert Slice(0, 4, 111, 5, False).replays() == 1
    assert Slice(1, 4, 222, 5, False).replays() == 0


def test_no_drawn_decision_stops_a_review_timeout_from_firing() -> None:
    """Over the whole plan of two seeds, an order meant to time out is sent only a
    decision racing its timeout or one after it (the held-out review-timeout defect went
    unfound on a seed whose timeout order was sent the same decision twice)."""
    sent: list[str] = []
    for seed in (0, 1):
        (drawn,) = _search(seed=seed, count=1, examples=60, hypothesis_seed=seed)
        for w, _ in drawn:
            timeouts = {p.order_id for p in w.plans if p.intent == "review_timeout"}
            for entry in w.schedule.faults:
                params = entry.fault.get("params") or {}
                if str(entry.fault["kind"]).startswith("review_") and \
                        params.get("order_id") in timeouts:
                    sent.append(str(entry.fault["kind"]))
    assert sent and set(sent) <= {"review_race", "review_late"}, sent


def test_late_commits_pack_with_late_commits() -> None:
    """A late commit always waits past the call timeout: spread one to a pack, six
    packs each waited 6 to 10 s; together, one example pays the wait for all a pack
    holds but one (six at packs of seven: the step tier has no late commit at the
    customer read, and each of the others is at a step of its own)."""
    for seed in range(6):
        packs = [p for p in planned_packs(seed) if p[0].tier == "step"]
        late = [p for p in packs if any(c.group == "late" for c in p)]
        cells = sum(1 for p in packs for c in p if c.group == "late")
        assert len(late) == -(-cells // (PACK["step"] - 1)), [list(map(str, p)) for p in late]


def test_no_pack_holds_a_late_commit_and_a_crash_of_the_orchestrator() -> None:
    """The crash restarts every order's calls: a late capture in the same pack resumed as
    a retry that found the commit, and a timeout taken for a refusal went unseen."""
    for seed in range(8):
        for pack in planned_packs(seed):
            groups = {c.group for c in pack}
            assert not {"late", "crash"} <= groups, [str(c) for c in pack]


def test_a_network_fault_keeps_off_the_fakes_other_members_put_rules_on() -> None:
    """A pack's late capture went unseen when another member's network fault cut the
    payment proxy: the held capture's connection was reset, which the client retries,
    and the retry went through before the late commit. A network fault now targets
    the fakes ahead of its step that carry no other member's rule."""
    world = build_world(0)
    plans = [make_order(world, "ok", 1, random.Random(1))]
    targets: set[str] = set()
    for step in ("reserve", "capture"):
        cell = Cell("step", step=step, group="network", phase="after_commit")

        @settings(max_examples=40, database=None, deadline=None)
        @given(entry=aimed_faults(plans, down_fakes=frozenset({"payment"}), call_timeout=2.0,
                                  cell=cell))  # fmt: skip
        def draw(entry) -> None:  # type: ignore[no-untyped-def]
            targets.add(entry.fault["target"])

        draw()
    assert targets and "payment" not in targets, targets


def test_no_late_commit_lands_on_the_step_that_refuses_its_order() -> None:
    """A late commit is an effect landing after the client gave up: a declined capture
    (or a refused reservation or shipment) makes none, and a late capture drawn on a
    declined order showed nothing (one in five of a late capture's draws)."""
    refused = {"declined": "/payments", "out_of_stock": "/reservations",
               "undeliverable": "/shipments"}  # fmt: skip
    late = 0
    for seed in (0, 1):
        (drawn,) = _search(seed=seed, count=1, examples=40, hypothesis_seed=seed, timeout=2.0)
        for w, _ in drawn:
            intents = {p.order_id: p.intent for p in w.plans}
            for entry in w.schedule.faults:
                params = entry.fault.get("params") or {}
                if entry.fault["kind"] != "delay" or params.get("phase") != "before_commit":
                    continue
                late += 1
                path = refused.get(intents.get(str(params.get("order_id")), ""))
                assert params.get("path") != path, (intents, entry.fault)
    assert late


def test_the_intent_tier_sends_no_input_that_races_its_order() -> None:
    """An intent cell covers its order's outcome: a review_timeout order sent a decision
    racing its timeout was decided by it, and a 20-example search never saw a review
    time out (nor an orchestrator whose timeout never fires)."""
    sent: list[str] = []
    for seed in range(6):
        (drawn,) = _search(seed=seed, count=1, examples=3, hypothesis_seed=seed)
        for w, pack in drawn:
            if pack is None or pack[0].tier != "intent":
                continue
            sent += [str(e.fault["kind"]) for e in w.schedule.faults
                     if str(e.fault["kind"]).startswith("review_")]  # fmt: skip
    assert sent and "review_race" not in sent, sent


def test_a_second_crash_on_an_order_is_set_off_by_another_step() -> None:
    """A crash member's second crash on its order came, one time in four, from the same
    request as the first: one crash in effect, and a planted "resume once only" defect
    went unseen in that pack. The second is aimed at another step of the order."""
    doubles = 0
    for h in range(3):
        (drawn,) = _search(seed=0, count=1, examples=20, hypothesis_seed=h)
        for w, pack in drawn:
            if pack is None:
                continue
            for plan in w.plans:
                steps = [(e.when.path, e.when.method) for e in w.schedule.faults
                         if e.when is not None and e.fault["kind"] in ("kill", "restart")
                         and e.fault["target"] == "orchestrator"
                         and aimed_at(e, w.plans) == plan.order_id]  # fmt: skip
                doubles += len(steps) > 1
                assert len(steps) == len(set(steps)), (steps, w)
    assert doubles


def test_no_member_aims_at_a_customer_read_an_earlier_order_makes() -> None:
    """The customer read carries no order id, so a rule on it is aimed by the customer's
    path, and the first order of that customer meets it. A review-timeout member shared
    its high-risk customer with a review-approve member in about one intent pack in six
    (these Hypothesis seeds did), so its rules hit the other order and it had none of
    its own: it is not aimed at a read an earlier order makes."""
    shared = 0
    for hypothesis_seed in (156, 160, 176, 212, 228, 232):
        for w, pack in _slice(3, 1, 4, 5, None, hypothesis_seed, 1.0):
            for j, cell in enumerate(pack or ()):
                plan = w.plans[j]
                shared += plan.order["customer_id"] in {p.order["customer_id"] for p in w.plans[:j]}
                assert _faults_of(w, j) or cell.group == "process", (cell, w)
    assert shared  # members still share customers: only the aim moved


def test_every_generated_crash_of_the_orchestrator_is_followed_by_one_while_resuming() -> None:
    """A crash member carries a second crash of the orchestrator on its order, at
    another step, whenever the order has one (recovery code runs only after a crash,
    and only a crash during it tests it): in generation always, not by a coin."""
    drawn = _search(seed=3, count=1, examples=12)[0]
    crashes = 0
    for w, pack in drawn:
        assert pack is not None
        members = [c for c in pack if c.group == "crash"]
        for plan in w.plans:
            mine = [f for f in w.schedule.faults if f.fault["target"] == "orchestrator"
                    and f.when is not None and f.when.order_id == plan.order_id
                    and f.fault["kind"] in ("kill", "restart")]  # fmt: skip
            if not mine:
                continue
            crashes += 1
            steps = {(f.when.service, f.when.path) for f in mine if f.when is not None}
            others = [s for s in REACHES[plan.intent] if s != "customer"]  # (no crash there)
            assert len(mine) == min(2, len(others)) == len(steps), (plan.intent, mine)
        assert crashes or not members
    assert crashes >= 6
