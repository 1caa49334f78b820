"""Fault coverage: which saga step each fault family hit, before or after commit.

STAND-IN (branch ``reports``): the ``search`` branch owns the real map (it also counts
network and process faults and feeds Hypothesis ``target()``); this minimal version has
the same interface and counts only what the fakes' journals record, the requests an HTTP
fault rule hit, so the report can render a real map. The lead reconciles both at merge.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from harness.checkers.steps import STEP_ORDER, classify

if TYPE_CHECKING:
    from harness.runner import RunResult

FAMILIES = ("http", "network", "process")
PHASES = ("before_commit", "after_commit")
_NETWORK = frozenset(
    {"latency", "bandwidth", "timeout", "reset_peer", "slicer", "limit_data", "slow_close"}
)
_PROCESS = frozenset({"kill", "pause", "restart"})


class Cell(NamedTuple):
    step: str
    family: str
    phase: str
    state: str


def family_of(kind: str | None) -> str:
    if kind in _PROCESS:
        return "process"
    if kind in _NETWORK:
        return "network"
    return "http"


def _states(result: RunResult) -> dict[str, list[tuple[float, str]]]:
    """Per order, the statuses the client read, in time order."""
    out: dict[str, list[tuple[float, str]]] = {}
    for ev in result.history.events:
        status = ev.data.get("status") if ev.type == "ok" and ev.op == "status" else None
        if ev.order_id is not None and isinstance(status, str):
            out.setdefault(ev.order_id, []).append((ev.t, status))
    return out


def _state_at(seen: list[tuple[float, str]], t: float) -> str:
    state = "pending"
    for when, status in seen:
        if when > t:
            break
        state = status
    return state


def run_coverage(result: RunResult) -> collections.Counter[Cell]:
    """One count per request a fault hit, in its cell."""
    states = _states(result)
    counts: collections.Counter[Cell] = collections.Counter()
    for service, entries in result.history.journals.items():
        for e in entries:
            fault: Mapping[str, Any] | None = e.get("fault")
            if not fault:
                continue
            step = classify(e.get("service") or service, e.get("method"), e.get("path"))
            phase = fault.get("phase") if fault.get("phase") in PHASES else "before_commit"
            oid = e.get("order_id")
            state = _state_at(states.get(oid, []), float(e.get("t") or 0.0)) if oid else "none"
            counts[Cell(step, family_of(fault.get("kind")), str(phase), state)] += 1
    return counts


class CoverageMap:
    """The suite-wide map: the sum of every run's cells."""

    def __init__(self) -> None:
        self.cells: collections.Counter[Cell] = collections.Counter()

    def add(self, result: RunResult) -> None:
        self.cells.update(run_coverage(result))

    @classmethod
    def from_results(cls, results: Iterable[RunResult]) -> CoverageMap:
        m = cls()
        for r in results:
            m.add(r)
        return m

    def to_json(self) -> dict[str, Any]:
        return {
            "cells": [
                {"step": c.step, "family": c.family, "phase": c.phase, "state": c.state, "hits": n}
                for c, n in sorted(self.cells.items())
            ],
            "steps": list(STEP_ORDER),
            "families": list(FAMILIES),
            "phases": list(PHASES),
        }
