"""Client faults (issue 22): the orchestrator's own inputs arrive twice, late, crossed or
changed. Each kind reaches the bundled orchestrator (the history records the input and
its answer), which stays consistent under it; the naive example's two planted defects
of this kind are caught by a hand-written schedule, and the same schedule passes with no
bug. Bad client faults are refused when the schedule is parsed, naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness_helpers import naive_spec

from fracas.harness.faults.client import races
from fracas.harness.kit.timescale import scaled
from fracas.harness.model.history import CLIENT_OPS
from fracas.harness.run.client import WAIT_SECONDS
from fracas.harness.run.replay import parse_replay
from fracas.harness.run.runner import RunOptions, RunResult, run
from fracas.harness.run.schedule import ScheduleError, parse_schedule
from fracas.harness.run.topology import Topology, TopologyConfig
from fracas.harness.run.workload import orders
from fracas.harness.search.planted import RULES

#: kind, the order's intent, params, and the answers every input of the run may get.
CASES: list[tuple[str, str, dict[str, Any], set[int]]] = [
    ("review_twice", "review_approve", {"decision": "approve"}, {200, 409}),
    ("review_twice", "review_reject", {"decision": "reject", "later": True}, {200, 409}),
    ("review_flip", "review_approve", {"decision": "approve"}, {200, 409}),
    ("review_flip", "review_reject", {"decision": "reject"}, {200, 409}),
    ("review_flip", "review_approve", {"decision": "approve", "after_done": True}, {200, 409}),
    ("review_late", "review_timeout", {"decision": "approve"}, {409}),
    ("review_race", "review_timeout", {"decision": "approve"}, {200, 409}),
    ("review_unasked", "ok", {"decision": "reject"}, {409}),
    ("resubmit", "ok", {}, {200, 202}),
    ("resubmit", "ok", {"after_done": True}, {200, 202}),
    ("resubmit_other", "ok", {}, {409}),
    # Refused, on an order that fails of its own (rejected in review): not the input's
    # doing (a soak found the checker blaming it).
    ("resubmit_other", "review_reject", {}, {409}),
]


def schedule(kind: str, **params: Any) -> list[dict[str, Any]]:
    return [{"fault": {"kind": kind, "target": "orchestrator",
                       "params": {"order_id": "ord-0001", **params}}, "at": 0}]  # fmt: skip


def inputs(result: RunResult) -> list[tuple[str, object, object]]:
    """(op, decision, status code) of every input a client fault sent, in order."""
    return [(op, decision, code) for op, decision, code, _ in answers(result)]


def answers(result: RunResult) -> list[tuple[str, object, object, Any]]:
    """(op, decision, status code, answer body) of every input a client fault sent, read
    back from the run's history as a report or a replay would."""
    events = result.history.to_json()["events"]
    done = {e["op_id"]: e["data"] for e in events if e["type"] in ("ok", "fail", "unknown")}
    return [
        (e["op"], e["data"].get("decision"), done.get(e["op_id"], {}).get("status_code"),
         done.get(e["op_id"], {}).get("body"))
        for e in events if e["type"] == "invoke" and e["op"] in CLIENT_OPS
    ]  # fmt: skip


def answered_in_full(op: str, code: object, body: Any) -> bool:
    """An answer the history holds whole: a refusal's problem body (RFC 9457, its status
    the code), or an acceptance naming the order."""
    if not isinstance(code, int) or not isinstance(body, dict):
        return False
    if code >= 400:
        return isinstance(body.get("type"), str) and body.get("status") == code
    return body.get("order_id") == "ord-0001" and (op != "client_review" or "status" in body)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    tmp = tmp_path_factory.mktemp("client")
    with Topology.start(TopologyConfig(run_dir=tmp / "run", seed=0)) as topo:
        yield topo


@pytest.mark.parametrize(("kind", "intent", "params", "codes"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{len(c[2])}" for c in CASES])  # fmt: skip
def test_each_input_reaches_the_bundled_orchestrator_which_stays_consistent(
    bundled: Topology, kind: str, intent: str, params: dict[str, Any], codes: set[int]
) -> None:
    result = run(bundled, orders(1, intents=[intent]), schedule(kind, **params),
                 RunOptions(settle_seconds=20))  # fmt: skip
    sent = inputs(result)
    assert sent, result.history.to_json()["events"]
    assert {code for _, _, code in sent} <= codes, sent
    # The input the kind is named for went out last and was answered; every input's
    # answer (status and body) is in the history.
    assert sent[-1][2] is not None
    told = answers(result)
    assert all(answered_in_full(op, code, body) for op, _, code, body in told), told
    assert result.entry_hits == {0: len(sent)}
    assert result.verdict.violations == [], result.failure_text()
    assert result.vacuous == []
    replay = parse_replay(result.replay_json())  # replay files carry the client fault
    assert replay.schedule.faults[0].fault["kind"] == kind


def test_a_flip_races_the_saga_only_while_it_runs() -> None:
    """The opposite decision sent while the saga runs races its progress (which steps a
    wrong orchestrator undoes, and which of its writes lands last); sent once the order
    ended, nothing moves beside it."""
    def flip(**params: Any) -> list[str]:
        return races([{"kind": "review_flip", "params": {"order_id": "ord-0001", **params}}])

    assert flip() == flip(after_done=False) == ["review_flip on ord-0001"]
    assert flip(after_done=True) == []
    assert races([{"kind": "review_twice", "params": {"order_id": "ord-0001"}}]) == []


def test_a_race_is_marked_as_one_in_what_it_sent(bundled: Topology) -> None:
    result = run(bundled, orders(1, intents=["review_timeout"]), schedule("review_race"),
                 RunOptions(settle_seconds=20))  # fmt: skip
    races = [op.invoke.data.get("race") for op in result.history.ops() if op.op in CLIENT_OPS]
    assert races == [True]
    clock = [op for op in result.history.ops() if op.op == "advance_clock"]
    assert clock and clock[0].invoke.data.get("kind") == "review_race"


@pytest.mark.parametrize(("kind", "intent", "ends"), [
    ("review_late", "review_approve", "failed"),   # nobody decides: the timeout fires first
    ("review_flip", "review_reject", "failed"),
    ("review_twice", "review_approve", "completed"),
])  # fmt: skip
def test_the_runs_own_reviewer_leaves_the_order_to_its_input(
    bundled: Topology, kind: str, intent: str, ends: str
) -> None:
    """An input that makes the order's review decision is its only reviewer. The run
    answered reviews as each order's plan says, so a ``review_late`` meant to come after
    the timeout came after the run's own approve instead (the same decision again), and
    the naive orchestrator took that approve after its deadline and, resumed after a
    crash, completed an order it had told the customer had failed."""
    result = run(bundled, orders(1, intents=[intent]), schedule(kind, decision="approve"
                 if intent == "review_approve" else "reject"), RunOptions(settle_seconds=20))  # fmt: skip
    assert result.verdict.violations == [], result.failure_text()
    own = [op for op in result.history.ops() if op.op == "review"]
    assert own == [], [op.invoke.data for op in own]
    assert result.statuses == {"ord-0001": ends}
    sent = inputs(result)
    assert sent and (kind != "review_late" or sent == [("client_review", "approve", 409)]), sent


def test_an_order_left_to_an_input_that_never_comes_is_answered_in_settle(
    bundled: Topology,
) -> None:
    """The input that would decide the order waits for a request the order makes only
    once it is decided: it never comes. The order waits in review with nothing holding
    it; once the workload phase gives up on it, the settle phase's reviewer answers, and
    the order completes: still for want of a decision is not stuck."""
    late = {"fault": {"kind": "review_late", "target": "orchestrator",
                      "params": {"order_id": "ord-0001", "decision": "approve"}},
            "when": {"service": "payment", "path": "/payments", "order_id": "ord-0001",
                     "phase": "after_commit"}}  # fmt: skip
    result = run(bundled, orders(1, intents=["review_approve"]), [late],
                 RunOptions(settle_seconds=20))  # fmt: skip
    assert result.verdict.violations == [], result.failure_text()
    assert result.statuses == {"ord-0001": "completed"}
    assert [op.invoke.data.get("decision") for op in result.history.ops() if op.op == "review"
            ] == ["approve"]  # fmt: skip


PLANTED = [
    ("review-twice", "review_approve", schedule("review_flip", decision="approve")),
    ("review-twice", "review_approve",
     schedule("review_flip", decision="approve", after_done=True)),
    ("resubmit", "ok", schedule("resubmit_other")),
]


@pytest.mark.parametrize(("bug", "intent", "sched"), PLANTED,
                         ids=["review-twice", "review-twice-after-done", "resubmit"])
def test_each_planted_input_defect_is_caught_by_a_hand_written_schedule(
    tmp_path: Path, bug: str, intent: str, sched: list[dict[str, Any]]
) -> None:
    with Topology.start(TopologyConfig(run_dir=tmp_path / "bug", orchestrator=naive_spec(bug))
                        ) as topo:  # fmt: skip
        result = run(topo, orders(1, intents=[intent]), sched, RunOptions(settle_seconds=20))
    rules = {v.rule for v in result.verdict.violations}
    assert rules & set(RULES[bug]), result.failure_text()
    assert "input-answers" in rules  # it also said yes to what it had to refuse
    # The witness tells the input's story: which client fault sent what, answered how
    # and what the answer said (the order it reported while it should have refused).
    assert sched[0]["fault"]["kind"] in result.failure_text()
    # (\s+ throughout: the witness wraps wherever its timings' digits put the words)
    assert re.search(r"answered\s+20\d\s+\(the\s+order\s+\w+\)", result.failure_text()), \
        result.failure_text()


def test_the_naive_orchestrator_without_bugs_passes_the_same_schedules(tmp_path: Path) -> None:
    with Topology.start(TopologyConfig(run_dir=tmp_path / "clean", orchestrator=naive_spec())
                        ) as topo:  # fmt: skip
        for _, intent, sched in PLANTED:
            result = run(topo, orders(1, intents=[intent]), sched, RunOptions(settle_seconds=20))
            assert result.verdict.violations == [], result.failure_text()
            assert inputs(result), "the input was never sent"


@pytest.mark.parametrize(
    ("fault", "field", "hint"),
    [
        ({"kind": "review_flip", "target": "payment", "params": {"order_id": "ord-0001"}},
         "faults[0].fault.target", "acts on one of orchestrator"),
        ({"kind": "review_flip", "target": "orchestrator", "params": {}},
         "faults[0].fault.params.order_id", "ord-0001"),
        ({"kind": "review_twice", "target": "orchestrator",
          "params": {"order_id": "ord-0001", "decision": "aprove"}},
         "faults[0].fault.params.decision", 'Did you mean "approve"'),
        ({"kind": "resubmit", "target": "orchestrator",
          "params": {"order_id": "ord-0001", "after_done": "yes"}},
         "faults[0].fault.params.after_done", "true or false"),
    ],
)  # fmt: skip
def test_a_bad_client_fault_is_refused_naming_the_field(
    fault: dict[str, Any], field: str, hint: str
) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_schedule([{"fault": fault, "at": 0}])
    assert str(err.value).startswith(field), err.value
    assert hint in str(err.value)


def test_the_coverage_plan_has_a_client_cell_per_step_and_phase_by_capability() -> None:
    from fracas.harness.search import inputs as search_inputs
    from fracas.harness.search.strategies import planned_cells

    cells = planned_cells(0)
    client = {(c.step, c.phase) for c in cells if c.tier == "step" and c.group == "client"}
    steps = {c.step for c in cells if c.tier == "step"}
    assert client == {(s, p) for s in steps for p in ("before_commit", "after_commit")}
    # a decision to an order that awaits review is a cell of its own, at the customer step
    review = {(c.step, c.phase) for c in cells if c.tier == "step" and c.group == "review"}
    assert review == {("customer", "before_commit"), ("customer", "after_commit")}
    assert planned_cells(0) == cells  # a fixed function of the seed
    without = planned_cells(0, kinds=["drop", "kill"])
    assert not [c for c in without if c.group in ("client", "review")]
    review = orders(1, intents=["review_approve"])[0]
    no_clock = frozenset({"review"})
    assert search_inputs.options(review, "customer", "before_commit", no_clock, None) == [
        "review_twice"]  # racing the timeout needs the clock
    assert "review_late" in search_inputs.options(
        review, "customer", "after_commit", no_clock | {"advance_clock"}, None)
    assert search_inputs.options(review, "capture", "after_commit", frozenset(), None) == [
        "resubmit", "resubmit_other"]


def test_an_order_meant_to_time_out_gets_only_decisions_that_leave_the_timeout_to_fire() -> None:
    """The same decision twice, sent while the order awaits review, stops its timeout
    from firing: a held-out defect in how the timeout is handled went unfound on 1 seed
    in 5 so. Such an order gets a decision racing the timeout or after it, in options,
    in the plan's fit, and in every drawn review cell."""
    from fracas.harness.search import inputs as search_inputs
    from fracas.harness.search.plan import fits
    from fracas.harness.search.strategies import planned_cells

    timeout = orders(1, intents=["review_timeout"])[0]
    caps = frozenset({"review", "advance_clock"})
    for phase in ("before_commit", "after_commit"):
        got = search_inputs.options(timeout, "customer", phase, caps, None)
        assert got and set(got) <= {"review_race", "review_late"}, (phase, got)
    assert not fits("review_timeout", "customer", "review", "review_twice")
    assert fits("review_approve", "customer", "review", "review_twice")
    assert fits("review_timeout", "customer", "review", "review_late")
    for cell in planned_cells(0):
        if cell.group == "review" and cell.kind in ("review_twice", "review_flip"):
            assert not fits("review_timeout", "customer", "review", cell.kind), cell


def test_the_stateful_rule_sends_an_input_and_the_bundled_orchestrator_stays_consistent(
    bundled: Topology,
) -> None:
    from fracas.harness.search.stateful import StatefulRun, input_kinds

    run_ = StatefulRun(bundled, seed=0)
    try:
        run_.submit("review_approve")  # it rests awaiting review: the input decides it
        assert "review_flip" in input_kinds(run_.plans[0], frozenset(bundled.orchestrator.capabilities))
        run_.send_input("review_flip", 0)
        result = run_.settle()
    finally:
        run_.cleanup()
        run_.close()
    assert result.verdict.violations == [], result.failure_text()
    sent = inputs(result)
    assert sent and sent[-1][0] == "client_review", sent
    assert result.schedule.faults[-1].fault["kind"] == "review_flip"


def test_a_review_timeout_that_never_fires_does_not_hold_the_late_input(tmp_path: Path) -> None:
    """``review_late`` jumps the clock past the review timeout, then waits for the order
    to leave review before it decides. With a timeout that never fires, it waited its
    whole 20 s, and the workload phase with it: each failing run of the search for that
    defect cost 20 s, three of them per search. The run judges the order stuck in review
    from the input's jump, as after its own, and the input stops waiting."""
    with Topology.start(TopologyConfig(run_dir=tmp_path / "bug",
                                       orchestrator=naive_spec("review-timeout"))) as topo:  # fmt: skip
        result = run(topo, orders(1, intents=["review_timeout"]),
                     schedule("review_late", decision="approve"), RunOptions(settle_seconds=20))  # fmt: skip
    assert "liveness" in {v.rule for v in result.verdict.violations}, result.failure_text()
    assert result.timings["workload"] < scaled(WAIT_SECONDS), result.timings
