"""The shape of a run: what it asked of the orchestrator, with the details that only
vary a case (a Faker name, a 503 or a 502, 120 ms or 300 ms) left out.

A search is judged by how many different shapes its budget ran (issue 17): two runs of
one shape teach little more than one. A shape is the orders' intents in submission
order, and each fault's kind, target, the step and phase it is aimed at, and which
order it is aimed at. A ``delay`` is a ``delay`` or, when it outlasts the orchestrator's
call timeout, a ``late`` one: an answer (or a commit) that comes after the client gave
up is another case than a slow one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from fracas.harness.model.steps import classify
from fracas.harness.run.schedule import Schedule
from fracas.harness.run.workload import OrderPlan

Shape = tuple[tuple[str, ...], tuple[tuple[str, str, str, str, int], ...]]


def _fault_shape(
    fault: Mapping[str, Any], when: Any, orders: Mapping[str, int], call_timeout: float
) -> tuple[str, str, str, str, int]:
    kind = str(fault.get("kind"))
    target = str(fault.get("target"))
    params = fault.get("params") or {}
    if kind == "delay" and float(params.get("ms") or 0) > call_timeout * 1000:
        kind = "late"
    if when is not None:
        service, method, path, phase = when.service, when.method, when.path, when.phase
        order = orders.get(str(when.order_id), 0)
    else:
        service, method = target, str(params.get("method") or "*")
        path, phase = str(params.get("path") or "*"), str(params.get("phase") or "before_commit")
        order = orders.get(str(params.get("order_id")), 0)
        if path.startswith("/customers/"):
            path = "/customers/*"  # aimed by the order's customer id: the order says whose
    return (kind, target, classify(service, method, path), phase, order)


def shape_of(plans: Sequence[OrderPlan], schedule: Schedule, call_timeout: float) -> Shape:
    """The run's shape; orders are named by their place (1, 2...), 0 for none."""
    orders = {p.order_id: i + 1 for i, p in enumerate(plans)}
    faults = tuple(
        _fault_shape(e.fault, e.when, orders, call_timeout) for e in schedule.faults
    )
    return tuple(p.intent for p in plans), faults


def shape_key(shape: Shape) -> str:
    """A short stable name for a shape: the same in every process and Python version
    (slices in different workers compare them), unlike ``hash()``."""
    return hashlib.sha256(repr(shape).encode()).hexdigest()[:16]
