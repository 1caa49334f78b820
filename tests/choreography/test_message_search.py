"""The message faults the search would draw: every draw is a valid schedule entry aimed
at an event its target sees, and none are drawn with a real Toxiproxy."""

from __future__ import annotations

from typing import Any

from choreo_helpers import example_table
from hypothesis import given, settings
from hypothesis import strategies as st

from fracas.harness.faults.message import refusal
from fracas.harness.run.schedule import parse_schedule
from fracas.harness.search.messages import consumed, message_faults

PARTICIPANTS = {p["name"]: p["consumes"] for p in example_table()["participants"]}
ORDERS = ["ord-0001", "ord-0002"]


@settings(max_examples=200, deadline=None)
@given(message_faults(PARTICIPANTS, ORDERS))
def test_every_drawn_message_fault_is_a_valid_entry_aimed_at_what_its_target_sees(
    entries: list[dict[str, Any]],
) -> None:
    schedule = parse_schedule(entries)
    assert refusal([f.fault for f in schedule.faults], reads_nats=True, backend="embedded") is None
    for entry in entries:
        fault = entry["fault"]
        params = fault["params"]
        assert params["order_id"] in ORDERS
        who = params.get("consumer") or fault["target"].removeprefix("participant:")
        if fault["kind"] != "message_lost_puback":
            assert params["event"] in consumed(PARTICIPANTS[who])
        else:
            assert params["event"] != "order.placed"


@given(st.data())
def test_nothing_is_drawn_with_a_real_toxiproxy(data: st.DataObject) -> None:
    assert data.draw(message_faults(PARTICIPANTS, ORDERS, reads_nats=False)) == []


def test_the_plan_has_message_cells_only_where_the_run_can_fault_messages() -> None:
    """A choreography on the embedded proxy (the capability ``messages``) gets a message
    cell per step and phase its events allow, and after the commit a death cell per
    event that reports a step, the failure and compensation events among them; an
    orchestrator's plan is as before."""
    from fracas.fakes.events import STEP_OF
    from fracas.harness.search.strategies import planned_cells

    caps = frozenset({"crash", "restart", "pause", "review"})
    plain = planned_cells(0, caps)
    assert not [c for c in plain if c.group in ("message", "death")]
    cells = planned_cells(0, caps | {"messages"})
    every = ("customer", "capture", "reserve", "ship", "release", "refund", "notify")
    steps = {(c.step, c.phase) for c in cells if c.group == "message" and c.tier == "step"}
    assert steps == {(s, p) for s in every for p in ("before_commit", "after_commit")}
    deaths = [c for c in cells if c.group == "death" and c.tier == "step"]
    assert sorted((str(c.event), str(c.step)) for c in deaths) == sorted(STEP_OF.items())
    assert {c.phase for c in deaths} == {"after_commit"}
    assert {c.kind for c in deaths} == {"message_crash", "message_publish_crash"}
    assert [c for c in cells if c.group not in ("message", "death")] != []


def _drawn(choreo: Any, caps: frozenset[str], seed: int = 0,
           examples: int = 25) -> list[tuple[Any, Any]]:  # fmt: skip
    """(workload, its pack) of the first ``examples`` the property search draws for
    ``choreo``; each schedule parses."""
    from hypothesis import HealthCheck

    from fracas.harness.search.strategies import planner_for, workloads

    planner = planner_for(seed, 0, 1, caps, choreography=choreo)
    strategy = workloads(seed=seed, max_orders=5, max_faults=2, capabilities=caps,
                         planner=planner, choreography=choreo)  # fmt: skip
    out: list[tuple[Any, Any]] = []

    @settings(max_examples=examples, database=None, deadline=None,
              suppress_health_check=[HealthCheck.filter_too_much])  # fmt: skip
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        planner.begin()
        w = data.draw(strategy)
        parse_schedule([f.to_json() for f in w.schedule.faults])
        k = planner.ran[-1]
        out.append((w, planner.packs[k] if k < len(planner.packs) else ()))

    draw._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    draw()
    return out


def _message_faults(drawn: list[tuple[Any, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(intent of its order, fault) of every message fault drawn."""
    return [({p.order_id: p.intent for p in w.plans}[e.fault["params"]["order_id"]], e.fault)
            for w, _ in drawn for e in w.schedule.faults
            if str(e.fault["kind"]).startswith("message_")]  # fmt: skip


def test_drawn_workloads_aim_message_faults_at_the_events_their_orders_take() -> None:
    """Every message fault the property search draws for the bundled choreography parses
    as a schedule entry, names an order of the workload, and an event on that order's
    intent's path that its target really sees."""
    from fracas.fakes.events import PATHS, cause
    from fracas.harness.search.messages import Choreography

    choreo = Choreography.of(PARTICIPANTS, example_table()["view"])
    caps = frozenset({"crash", "restart", "pause", "review", "messages"})
    seen: list[str] = []
    drawn = _drawn(choreo, caps)
    # A crash is healed (its participant started again) a second after the kill, as a
    # supervisor would; the rest lie in wait for their message and hold for seconds.
    held = {(str(e.fault["kind"]), e.duration) for w, _ in drawn for e in w.schedule.faults
            if str(e.fault["kind"]).startswith("message_")}  # fmt: skip
    assert {d for k, d in held if k in ("message_crash", "message_publish_crash")} <= {1.0}
    assert {d for k, d in held if k not in ("message_crash", "message_publish_crash")} <= {6.0}
    assert any(k == "message_crash" for k, _ in held), held
    for intent, fault in _message_faults(drawn):
        params = fault["params"]
        assert params["event"] in PATHS[intent], (fault, PATHS[intent])
        who = params.get("consumer") or str(fault["target"]).removeprefix("participant:")
        if fault["kind"] == "message_publish_crash":
            # the publisher: it acts on the event that sets this one off on the path
            assert cause(PATHS[intent], params["event"]) in consumed(PARTICIPANTS[who]), fault
        elif fault["kind"] != "message_lost_puback":
            assert params["event"] in consumed(PARTICIPANTS[who]), fault
        seen.append(str(fault["kind"]))
    assert len(set(seen)) >= 4, seen


def test_a_death_cell_kills_the_participant_that_publishes_its_event() -> None:
    """Each death cell of the drawn packs puts a crash on an order whose path has the
    cell's event: at its publish, or after the ack of the event that sets it off, by the
    participant that publishes it."""
    from fracas.fakes.events import BY_NAME, PATHS, cause
    from fracas.harness.search.messages import Choreography

    choreo = Choreography.of(PARTICIPANTS, example_table()["view"])
    caps = frozenset({"crash", "restart", "pause", "review", "messages"})
    seen = set()
    for w, pack in _drawn(choreo, caps, 3):
        intents = {p.order_id: p.intent for p in w.plans}
        for cell in (c for c in pack if c.group == "death" and c.tier == "step"):
            event = str(cell.event)
            hits = [
                f for f in (e.fault for e in w.schedule.faults)
                if f["kind"] in ("message_crash", "message_publish_crash")
                and event in PATHS[intents[f["params"]["order_id"]]]
                and f["target"] == f"participant:{BY_NAME[event].by}"
                and f["params"]["event"] in (
                    event, cause(PATHS[intents[f["params"]["order_id"]]], event))
            ]  # fmt: skip
            assert hits, (cell, [e.fault for e in w.schedule.faults])
            seen.add(event)
    assert len(seen) >= 3, seen


def test_an_undo_that_another_branch_sets_off_can_overtake_its_create() -> None:
    """Payment and inventory both act on customer.checked: a declined card sets off the
    release of a reservation, out of stock the refund of a capture, each on the other
    branch, so the undo can come first. After the join (an undeliverable address) the
    undo follows the create's own event: one order only. A hybrid's orchestrator runs
    its steps itself."""
    from fracas.fakes.events import PATHS
    from fracas.harness.search.messages import after, overtaken

    assert overtaken(list(PATHS)) == [("declined", "reserve"), ("out_of_stock", "capture")]
    assert overtaken(list(PATHS), hybrid=True) == []
    undeliverable = PATHS["undeliverable"]
    assert {"payment.captured", "inventory.reserved"} <= after(undeliverable, "payment.refunded")
    assert "inventory.reserved" not in after(PATHS["declined"], "inventory.released")


def test_the_first_packs_deliver_a_create_late_after_its_undo() -> None:
    """Each undo-first cell is in the intent tier (the first packs a search runs), and
    its example holds customer.checked back from the step's doer, on an order of the
    intent that undoes the step; no orchestrator's plan has one."""
    from fracas.harness.search.messages import Choreography
    from fracas.harness.search.strategies import planned_cells

    caps = frozenset({"crash", "restart", "pause", "review"})
    assert not [c for c in planned_cells(0, caps) if c.tier == "intent" and c.step]
    choreo = Choreography.of(PARTICIPANTS, example_table()["view"])
    firsts = [c for c in planned_cells(0, caps | {"messages"}, choreography=choreo)
              if c.tier == "intent" and c.step]  # fmt: skip
    assert sorted((c.intent, c.step, c.kind) for c in firsts) == [
        ("declined", "reserve", "message_late"), ("out_of_stock", "capture", "message_late")]
    doer = {"reserve": "inventory", "capture": "payment"}
    seen = set()
    for w, pack in _drawn(choreo, caps | {"messages"}, 0, examples=3):
        intents = {p.order_id: p.intent for p in w.plans}
        for cell in (c for c in pack if c.tier == "intent" and c.step):
            late = [f for f in (e.fault for e in w.schedule.faults)
                    if f["kind"] == "message_late" and f["params"]["event"] == "customer.checked"
                    and f["params"]["consumer"] == doer[str(cell.step)]
                    and intents[f["params"]["order_id"]] == cell.intent]  # fmt: skip
            assert late, (cell, [e.fault for e in w.schedule.faults])
            seen.add(cell.step)
    assert seen == {"reserve", "capture"}


def test_a_hybrids_message_cells_are_on_its_end_event_alone() -> None:
    """A hybrid's broker carries the orchestrator's end events only (contract §8): its
    plan has message cells at the step they set off, the notification, and every drawn
    message fault is on an order's end event, delivered to or crashing a participant
    that takes it, or the orchestrator's publish of it losing its PubAck or crashing
    the orchestrator."""
    from fracas.fakes.events import PATHS
    from fracas.harness.search.messages import Choreography
    from fracas.harness.search.strategies import planned_cells

    takes = {"notify": ["order.completed", "order.failed"]}
    caps = frozenset({"crash", "restart", "pause", "review", "messages"})
    hybrid = Choreography.of(takes, "", hybrid=True)
    cells = planned_cells(0, caps, choreography=hybrid)
    steps = {(c.step, c.phase) for c in cells
             if c.group in ("message", "death") and c.tier == "step"}  # fmt: skip
    assert steps == {("notify", "before_commit"), ("notify", "after_commit")}
    seen: set[str] = set()
    for intent, fault in _message_faults(_drawn(hybrid, caps, 0) + _drawn(hybrid, caps, 1)):
        params = fault["params"]
        assert params["event"] == PATHS[intent][-1], fault
        who = params.get("consumer") or str(fault["target"]).removeprefix("participant:")
        if fault["kind"] == "message_publish_crash":
            assert fault["target"] == "orchestrator", fault
        else:
            assert fault["kind"] == "message_lost_puback" or who == "notify", fault
        seen.add(str(fault["kind"]))
    assert {"message_lost_puback", "message_duplicate"} & seen and len(seen) >= 3, seen
    # its two message cells would bring two kinds of seven: each kind has a cell of its
    # own (plan._every_kind), all but a reorder, which needs a later event of the order
    named = {c.kind for c in cells if c.group in ("message", "death") and c.tier == "step"}
    assert named == {"message_crash", "message_lost_puback", "message_publish_crash",
                     "message_duplicate", "message_late", "message_pause"}  # fmt: skip
    assert "message_publish_crash" in seen


def _crash_targets(choreo: Any, caps: frozenset[str], seed: int) -> list[tuple[str, str, str]]:
    """(intent, step, target) of every crash the plan's crash cells draw."""
    from fracas.harness.model.steps import STEPS

    step_of = {(svc, method, path): step for step, svc, method, path in STEPS}
    fakes = ("crm", "payment", "inventory", "shipping", "notify")
    out: list[tuple[str, str, str]] = []
    for w, pack in _drawn(choreo, caps, seed):
        if not any(c.group == "crash" for c in pack):
            continue
        intents = {p.order_id: p.intent for p in w.plans}
        for entry in w.schedule.faults:
            when, target = entry.when, str(entry.fault["target"])
            if entry.fault["kind"] in ("kill", "restart") and when is not None \
                    and when.order_id in intents and target not in fakes:
                step = step_of[(when.service, when.method, when.path)]
                out.append((intents[when.order_id], step, target))
    return out


def test_a_crash_cell_crashes_the_process_that_carries_the_step_out() -> None:
    """In a choreography the participants that act on the event setting a step off carry
    it out, not the order view: crashed while its request is held, a participant that
    acked before its effect loses the step on every run (the view crashed instead, the
    loss hung on a kill beating the effect, and replayed 0 times in 5). A hybrid's
    orchestrator still carries its own steps out."""
    from fracas.harness.search.messages import Choreography, step_doers

    caps = frozenset({"crash", "restart", "pause", "review", "messages"})
    choreo = Choreography.of(PARTICIPANTS, example_table()["view"])
    crashes = _crash_targets(choreo, caps, 0) + _crash_targets(choreo, caps, 1)
    assert len(crashes) >= 3, crashes
    for intent, step, target in crashes:
        assert target in {f"participant:{d}" for d in step_doers(choreo, intent, step)}, \
            (intent, step, target)
    hybrid = Choreography.of({"notify": ["order.completed", "order.failed"]}, "", hybrid=True)
    crashes = _crash_targets(hybrid, caps, 0)
    assert crashes and all(t == ("participant:notify" if s == "notify" else "orchestrator")
                           for _, s, t in crashes), crashes  # fmt: skip


def test_a_steps_doer_is_the_participant_that_publishes_its_event() -> None:
    """Payment and inventory both act on customer.checked: the capture is payment's step
    and the reservation inventory's (the contract names each event's publisher), so a
    crash or a delivery fault aimed at one step lands on the process that carries it
    out. A table whose names the contract does not know keeps every consumer."""
    from fracas.harness.search.messages import Choreography, step_doers

    choreo = Choreography.of(PARTICIPANTS, example_table()["view"])
    assert step_doers(choreo, "ok", "capture") == ["payment"]
    assert step_doers(choreo, "ok", "reserve") == ["inventory"]
    assert step_doers(choreo, "undeliverable", "release") == ["inventory"]
    renamed = {"cards": ["customer.checked"], "stock": ["customer.checked"], "view": ["*"]}
    assert step_doers(Choreography.of(renamed, "view"), "ok", "reserve") == ["cards", "stock"]


def test_delays_and_pauses_are_reckoned_from_the_choreographys_ack_wait() -> None:
    """A late delivery within, about and past one ack wait, a pause past it: fixed at
    0.5 to 3 s and 3 or 5 s, a choreography with the server's 30 s ack wait was never
    paused past it. At the bundled 2 s they are what they were."""
    from fracas.harness.search.messages import Choreography, hold, late_ms, pause_seconds

    assert late_ms(2.0) == (500, 1500, 3000) and pause_seconds(2.0) == (3.0, 5.0)
    assert hold("message_late", 2.0) == 6.0 and hold("message_crash", 30.0) == 1.0
    caps = frozenset({"crash", "restart", "pause", "review", "messages"})
    slow = Choreography.of(PARTICIPANTS, example_table()["view"], ack_wait=10.0)
    drawn = _drawn(slow, caps, 0)
    faults = [e for w, _ in drawn for e in w.schedule.faults]
    lates = {e.fault["params"]["delay_ms"] for e in faults if e.fault["kind"] == "message_late"}
    pauses = {e.fault["params"]["seconds"] for e in faults if e.fault["kind"] == "message_pause"}
    assert lates and lates <= {2500, 7500, 15000}, lates
    assert pauses and pauses <= {15.0, 25.0} and max(pauses) > 10.0, pauses
    assert {e.duration for e in faults if e.fault["kind"] == "message_late"} == {30.0}
