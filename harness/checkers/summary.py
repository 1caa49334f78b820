"""The resilience summary: how hard the orchestrator had to work, and what faults it met.

Consistency is pass/fail; this is the texture around it: retries per step, compensations,
time to settle, and fault coverage (which step saw which fault, before or after commit),
so a green run that never exercised the interesting paths is visible as such.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from fracas.harness.checkers.engine import no_gc
from fracas.harness.checkers.view import View
from fracas.harness.model.history import FaultWindow
from fracas.harness.model.snapshot import Snapshot
from fracas.harness.model.steps import STEP_ORDER, classify

JSON = dict[str, Any]


def _quantiles(xs: list[float]) -> JSON:
    if not xs:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    s = sorted(xs)

    def q(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * len(s)))], 3)

    return {
        "n": len(s),
        "p50": q(0.5),
        "p95": q(0.95),
        "p99": q(0.99),
        "max": round(s[-1], 3),
        "mean": round(sum(s) / len(s), 3),
    }


def _after_heal(view: View) -> float | None:
    """How long after the last fault healed the last order was first seen terminal."""
    heal = view.last_heal_t
    if heal is None or not view.terminal_t:
        return None
    return round(max(0.0, max(view.terminal_t.values()) - heal), 3)


def _step_key(step: str) -> int:
    return STEP_ORDER.index(step) if step in STEP_ORDER else len(STEP_ORDER)


def summarize(snapshot: Snapshot | View) -> JSON:
    with no_gc():
        return _summarize(snapshot if isinstance(snapshot, View) else View(snapshot))


def _summarize(view: View) -> JSON:
    outcomes: Counter[str] = Counter()
    for o in view.orders:
        outcomes[view.status(o) or "unknown"] += 1

    tally = _count(view)
    steps = _steps(tally)

    n = max(1, len(view.orders))
    compensations = {
        "refunds": len(view.refunds),
        "releases": sum(1 for r in view.reservations if r.get("status") == "released"),
        "cancellations": sum(1 for s in view.shipments if s.get("status") == "cancelled"),
    }
    compensated = (
        {r.get("order_id") for r in view.refunds}
        | {r.get("order_id") for r in view.reservations if r.get("status") == "released"}
        | {s.get("order_id") for s in view.shipments if s.get("status") == "cancelled"}
    )
    settle = [
        view.terminal_t[o] - view.submitted_t[o]
        for o in view.orders
        if o in view.terminal_t and o in view.submitted_t
    ]
    return {
        "orders": len(view.orders),
        "outcomes": dict(sorted(outcomes.items())),
        "requests": {
            "total": sum(tally.per_step_requests.values()),
            "per_order_mean": round(sum(tally.per_order_requests[o] for o in view.orders) / n, 3),
            "retries_per_order_mean": round(
                sum(tally.per_order_retries[o] for o in view.orders) / n, 3
            ),
            "retries_per_order_max": max(
                (tally.per_order_retries[o] for o in view.orders), default=0
            ),
        },
        "steps": steps,
        "compensations": {**compensations, "orders_compensated": len(compensated - {None})},
        "time_to_settle_s": _quantiles(settle),
        "settled_after_last_heal_s": _after_heal(view),
        "most_retried": [
            {"order_id": o, "requests": tally.per_order_requests[o], "retries": n}
            for o, n in tally.per_order_retries.most_common(10)
            if n > 0 and o is not None
        ],
        "fault_coverage": _fault_coverage(tally),
        "faults": [
            {
                "target": w.target,
                "fault": w.label,
                "applied_s": round(w.applied_t - view.t0, 3),
                "healed_s": None if w.healed_t is None else round(w.healed_t - view.t0, 3),
            }
            for w in view.faults
        ],
    }


@dataclass
class _JournalCounts:
    """What one pass over the journals counts, for the steps table, the per-order
    figures and the fault coverage; one pass because the journals are the run's
    largest part."""

    per_step_requests: Counter[str] = field(default_factory=Counter)
    per_step_orders: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))
    per_order_step: Counter[tuple[Any, str]] = field(default_factory=Counter)
    per_step_retries: Counter[str] = field(default_factory=Counter)
    per_step_replayed: Counter[str] = field(default_factory=Counter)
    per_step_new_key: Counter[str] = field(default_factory=Counter)
    keys_seen: set[tuple[Any, Any]] = field(default_factory=set)
    first_key: dict[tuple[Any, str], Any] = field(default_factory=dict)
    per_order_requests: Counter[Any] = field(default_factory=Counter)
    per_order_retries: Counter[Any] = field(default_factory=Counter)
    coverage: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    coverage_orders: dict[tuple[str, str, str], set[Any]] = field(
        default_factory=lambda: defaultdict(set)
    )


def _count(view: View) -> _JournalCounts:
    tally = _JournalCounts()
    faults = view.faults
    # fault windows as a sweep: (time, 0=apply / 1=heal, window); heal sorts after apply
    # HTTP rules are left out: the journal's fault field says exactly which requests they hit
    windows = [w for w in faults if not w.is_http_rule]
    edges = deque(
        sorted(
            [(w.applied_t, 0, w) for w in windows]
            + [(w.healed_t + 1e-9, 1, w) for w in windows if w.healed_t is not None],
            key=lambda x: (x[0], x[1]),
        )
    )
    active: dict[str, list[FaultWindow]] = defaultdict(list)
    for e in view.journal:
        svc: Any = e.get("service")
        oid = e.get("order_id")
        step = classify(svc, e.get("method"), e.get("path"))
        tally.per_step_requests[step] += 1
        tally.per_step_orders[step].add(oid)
        tally.per_order_step[(oid, step)] += 1
        tally.per_order_requests[oid] += 1
        key = e.get("idempotency_key")
        if e.get("replayed"):
            tally.per_step_replayed[step] += 1
        if tally.per_order_step[(oid, step)] > 1:  # a repeat, with or without a key
            tally.per_order_retries[oid] += 1
        if key is not None:
            if (svc, key) in tally.keys_seen:
                tally.per_step_retries[step] += 1
            else:
                tally.keys_seen.add((svc, key))
                slot = (oid, step)
                if slot in tally.first_key:
                    tally.per_step_new_key[step] += 1  # same order and step, another key
                else:
                    tally.first_key[slot] = key
        f = e.get("fault")
        if f:
            k = (step, f"rule {f.get('rule_id')} ({f.get('kind')})", str(f.get("phase")))
            tally.coverage[k] += 1
            tally.coverage_orders[k].add(oid)
        t = e.get("t")
        if windows and t is not None:
            t = float(t)
            while edges and edges[0][0] <= t:  # sweep: journal is in time order
                _, kind, w = edges.popleft()
                (active[w.target].append(w) if kind == 0 else active[w.target].remove(w))
            for w in active.get(svc, ()):
                k = (step, w.label, "during")
                tally.coverage[k] += 1
                tally.coverage_orders[k].add(oid)
    return tally


def _steps(tally: _JournalCounts) -> list[JSON]:
    step_counts: dict[str, list[int]] = defaultdict(list)
    for (_, s), c in tally.per_order_step.items():
        step_counts[s].append(c)
    steps = []
    for step in sorted(tally.per_step_requests, key=_step_key):
        counts = step_counts[step]
        steps.append(
            {
                "step": step,
                "requests": tally.per_step_requests[step],
                "orders": len(tally.per_step_orders[step]),
                "per_order_mean": round(sum(counts) / len(counts), 3) if counts else 0.0,
                "per_order_max": max(counts) if counts else 0,
                "retries_same_key": tally.per_step_retries[step],
                "replayed": tally.per_step_replayed[step],
                "new_key_attempts": tally.per_step_new_key[step],
            }
        )
    return steps


def _fault_coverage(tally: _JournalCounts) -> list[JSON]:
    return [
        {
            "step": s,
            "fault": f,
            "phase": p,
            "requests": c,
            "orders": len(tally.coverage_orders[(s, f, p)]),
        }
        for (s, f, p), c in sorted(
            tally.coverage.items(), key=lambda kv: (_step_key(kv[0][0]), kv[0][1], kv[0][2])
        )
    ]
