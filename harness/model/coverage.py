"""Fault coverage: which saga steps each fault family really hit, in which phase, and in
which state the order was when it hit.

A run's map is computed from the RunResult alone (its history and the fakes' journals),
never from what the schedule *meant* to do: a fault that matched nothing leaves no cell.
The same per-entry evidence tells the runner which schedule entries were vacuous
(``entry_hits``), and a ``CoverageMap`` per Hypothesis slice lets the property scenario
steer Hypothesis toward cells that slice has not hit yet (``SESSION`` is a process-wide
one for scenarios of one's own).

Cells are ``(step, family, phase, state)``: the step a request belonged to (``capture``,
``refund``...), the fault family (network, http, process), before or after the
step's commit, and the order's last status the client had seen when the fault hit.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from fracas.harness.faults import fault_kinds
from fracas.harness.faults.base import FAMILIES
from fracas.harness.faults.http import PHASES
from fracas.harness.model.history import CLIENT_OPS, STATUS, History
from fracas.harness.model.steps import STEP_ORDER, classify


class _Trigger(Protocol):
    @property
    def service(self) -> str: ...


class _Entry(Protocol):
    @property
    def when(self) -> _Trigger | None: ...


class Plan(Protocol):
    """What coverage reads of a schedule (``run.schedule.Schedule``): each entry's trigger.
    Named by its shape, so this layer never imports the run that makes one."""

    @property
    def faults(self) -> Sequence[_Entry]: ...


class Run(Protocol):
    """What coverage reads of a run (``run.runner.RunResult``); its ``schedule`` (a Plan)
    too when it has one."""

    @property
    def history(self) -> History: ...


#: A process fault that hit while no request was its trigger (a time trigger).
ANY_STEP = "(any)"
STEP_NAMES: tuple[str, ...] = (*STEP_ORDER, ANY_STEP)


class Cell(NamedTuple):
    step: str
    family: str
    phase: str
    state: str


def step_of(service: str, method: str, path: str) -> str:
    """The saga step a request to a fake belongs to (fracas.harness.model.steps)."""
    return classify(service, method, path)


def family_of(kind: str | None) -> str:
    cls = fault_kinds().get(str(kind))
    return cls.family if cls is not None else "unknown"


class _States:
    """The order's status as the client last saw it, at any time of the run."""

    def __init__(self, history: History) -> None:
        self._reads: dict[str, list[tuple[float, str]]] = {}
        reads: dict[int, str] = {}
        for ev in history.events:
            if ev.type == "invoke" and ev.op == STATUS and ev.order_id is not None:
                reads[ev.op_id] = ev.order_id
            elif ev.type == "ok" and ev.op_id in reads:
                status = ev.data.get("status")
                if isinstance(status, str):
                    self._reads.setdefault(reads[ev.op_id], []).append((ev.t, status))

    def at(self, order_id: str | None, t: float) -> str:
        if order_id is None:
            return "unknown"
        state = "submitted"
        for when, status in self._reads.get(order_id, []):
            if when > t:
                break
            state = status
        return state


class _Hit(NamedTuple):
    entry: int
    cell: Cell


def _hits(history: History, schedule: Plan | None) -> list[_Hit]:
    """Every request (or process event) a schedule entry's fault acted on."""
    states = _States(history)
    out: list[_Hit] = []
    applied = [ev for ev in history.events if ev.type == "fault_applied"]
    healed = {ev.op_id: ev.t for ev in history.events if ev.type == "fault_healed"}
    acted = {ev.data.get("index"): ev.t for ev in history.events
             if ev.type == "note" and ev.op == "fault-acted"}  # fmt: skip
    rule_owner: dict[str, int] = {}
    for ev in applied:
        index = ev.data.get("index")
        fault = ev.data.get("fault") or {}
        if not isinstance(index, int):
            continue
        kind = str(fault.get("kind"))
        family = family_of(kind)
        trigger = ev.data.get("trigger")
        if family == "http" and fault.get("id"):
            rule_owner[str(fault["id"])] = index
        if isinstance(trigger, Mapping) and family != "client":  # inputs count, below
            # The trigger's own request: the fault landed exactly on this step.
            step = step_of(
                str(ev.data.get("trigger_service") or _service_of(trigger, schedule, index)),
                str(trigger.get("method") or "POST"),
                str(trigger.get("path") or ""),
            )
            phase = str(trigger.get("phase") or "after_commit")
            oid = trigger.get("order_id")
            out.append(
                _Hit(index, Cell(step, family, phase, states.at(oid if oid else None, ev.t)))
            )
        elif family == "message":
            moved = _message_hits(history, states, index, fault, ev.t, healed.get(ev.op_id))
            if not moved and index in acted:
                # It acted on a message the broker never moved (a publish lost on the
                # wire, its publisher killed until the heal): its toxic's count says so.
                moved = [_acted_hit(states, index, fault, acted[index])]
            out += moved
        elif (family == "process" or ev.data.get("target") == BROKER) and _in_flight(
                history, ev.t, healed.get(ev.op_id)):
            # A process, or the broker (no journal: its fault acts on what is in flight).
            out.append(_Hit(index, Cell(ANY_STEP, family, "before_commit", "in_flight")))
        if family == "network":
            start, end = ev.t, healed.get(ev.op_id, float("inf"))
            target = str(ev.data.get("target"))
            journal = history.journals.get(target, [])
            for entry in journal:
                t = float(entry.get("t") or 0.0)
                if start <= t <= end and not entry.get("fault"):
                    step = step_of(target, str(entry.get("method")), str(entry.get("path")))
                    oid = entry.get("order_id")
                    out.append(
                        _Hit(index, Cell(step, family, "before_commit", states.at(oid, t)))
                    )
            if kind in BLOCKING:
                out += [
                    _Hit(index, cell) for cell in _blocked(history, states, target, journal, start, end)
                ]
    out += _client_hits(history, states)
    for service, entries in history.journals.items():
        for entry in entries:
            tag = entry.get("fault")
            if not isinstance(tag, Mapping):
                continue
            rule_id = str(tag.get("rule_id"))
            if rule_id.startswith("fracas-trigger-"):
                continue  # a trigger's hold: counted as its entry's fault above
            owner = rule_owner.get(rule_id, -1)  # -1: a rule applied outside the schedule
            step = step_of(service, str(entry.get("method")), str(entry.get("path")))
            phase = str(tag.get("phase") or "before_commit")
            t = float(entry.get("t") or 0.0)
            out.append(_Hit(owner, Cell(step, "http", phase, states.at(entry.get("order_id"), t))))
    return out


#: A choreography's broker as a network fault's target (docs/choreography.md).
BROKER = "broker"


#: What the broker did that a message fault acts on (harness/broker/tap.py's kinds).
MOVED = frozenset({"published", "delivered", "redelivered"})


def _message_hits(history: History, states: _States, index: int, fault: Mapping[str, Any],
                  start: float, end: float | None) -> list[_Hit]:  # fmt: skip
    """A message fault hit each message of its event (and order) the broker moved while
    it held: the step is the event, as the history names it."""
    params = fault.get("params") or {}
    oid = params.get("order_id")
    stop = end if end is not None else float("inf")
    return [
        _Hit(index, _message_cell(states, m["event"], m["order_id"], m["t"]))
        for m in history.messages
        if m.get("kind") in MOVED and m.get("event") == params.get("event")
        and (oid is None or m.get("order_id") == oid) and start <= float(m.get("t") or 0) <= stop
    ]


def _acted_hit(states: _States, index: int, fault: Mapping[str, Any], t: float) -> _Hit:
    params = fault.get("params") or {}
    oid = params.get("order_id")
    return _Hit(index, _message_cell(states, params.get("event"), str(oid) if oid else None, t))


def _message_cell(states: _States, event: object, order_id: str | None, t: float) -> Cell:
    """A message fault's cell: the step is the event, as the history names it."""
    return Cell(str(event), "message", "before_commit", states.at(order_id, t))


def _client_hits(history: History, states: _States) -> list[_Hit]:
    """Each input a client fault sent is a hit: the step is the input (``review``,
    ``submit``), the phase whether the order already rested on an earlier one."""
    out: list[_Hit] = []
    for op in history.ops():
        index = op.invoke.data.get("index")
        if op.op not in CLIENT_OPS or not isinstance(index, int):
            continue
        step = op.op.removeprefix("client_")
        state = states.at(op.order_id, op.invoke.t)
        phase = "after_commit" if state in ("completed", "failed", "needs_attention") else "before_commit"
        out.append(_Hit(index, Cell(step, "client", phase, state)))
    return out


#: Network kinds that stop a request reaching the fake at all: the journal cannot show
#: what they hit, so a hit is inferred (a real toxiproxy reports no counts).
BLOCKING = frozenset({"down", "timeout", "reset_peer", "limit_data"})


def _blocked(
    history: History,
    states: _States,
    target: str,
    journal: list[dict[str, Any]],
    start: float,
    end: float,
) -> list[Cell]:
    """Orders in flight while the toxic was on that got to the fake only after it came
    on: they needed it while it was blocked (refused, hung or cut, then retried)."""
    finished = history.terminal_times()
    cells: list[Cell] = []
    for oid, t_sub in history.submit_times().items():
        if t_sub > end or finished.get(oid, float("inf")) < start:
            continue
        later = [
            e for e in journal
            if e.get("order_id") == oid and float(e.get("t") or 0.0) >= start
        ]
        if later:
            first = min(later, key=lambda e: float(e.get("t") or 0.0))
            step = step_of(target, str(first.get("method")), str(first.get("path")))
            cells.append(Cell(step, "network", "before_commit", states.at(oid, start)))
    return cells


def _in_flight(history: History, start: float, end: float | None) -> bool:
    """Some order was submitted and not yet seen terminal during [start, end]."""
    finished = history.terminal_times()
    stop = float("inf") if end is None else end
    return any(
        t_sub <= stop and finished.get(oid, float("inf")) >= start
        for oid, t_sub in history.submit_times().items()
    )


def _service_of(trigger: Mapping[str, Any], schedule: Plan | None, index: int) -> str:
    if schedule is not None and 0 <= index < len(schedule.faults):
        when = schedule.faults[index].when
        if when is not None:
            return when.service
    return str(trigger.get("service") or "?")


def entry_hits(history: History, schedule: Plan) -> dict[int, int]:
    """How many requests (or process events) each schedule entry's fault acted on."""
    counts = dict.fromkeys(range(len(schedule.faults)), 0)
    for hit in _hits(history, schedule):
        if hit.entry >= 0:
            counts[hit.entry] = counts.get(hit.entry, 0) + 1
    return counts


def run_coverage(result: Run) -> collections.Counter[Cell]:
    """The run's fault coverage: hits per (step, family, phase, state)."""
    schedule: Plan | None = getattr(result, "schedule", None)
    return collections.Counter(h.cell for h in _hits(result.history, schedule))


class CoverageMap:
    """Coverage summed over runs: what a suite (or a Hypothesis session) exercised."""

    def __init__(self) -> None:
        self._cells: collections.Counter[Cell] = collections.Counter()

    def add(self, result: Run) -> collections.Counter[Cell]:
        """Add one run; returns that run's own cells."""
        cells = run_coverage(result)
        self.add_cells(cells)
        return cells

    def add_cells(self, cells: collections.Counter[Cell]) -> None:
        self._cells.update(cells)

    def new_cells(self, cells: Iterable[Cell]) -> int:
        """How many of ``cells`` this map has never seen (call before ``add``)."""
        return sum(1 for c in set(cells) if self._cells.get(c, 0) == 0)

    @classmethod
    def from_results(cls, results: Iterable[Run]) -> CoverageMap:
        out = cls()
        for result in results:
            out.add(result)
        return out

    @property
    def cells(self) -> collections.Counter[Cell]:
        return collections.Counter(self._cells)

    def to_json(self) -> dict[str, Any]:
        """Cells with hits, plus every axis value, so a table can show the empty cells."""
        extra_steps = sorted({c.step for c in self._cells} - set(STEP_NAMES))
        return {
            "cells": [
                {**c._asdict(), "hits": n}
                for c, n in sorted(self._cells.items(), key=lambda kv: tuple(kv[0]))
            ],
            "steps": [*STEP_NAMES, *extra_steps],
            "families": list(FAMILIES),
            "phases": list(PHASES),
        }


#: The map the property scenarios feed during one pytest session.
SESSION = CoverageMap()
