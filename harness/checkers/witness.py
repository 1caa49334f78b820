"""Turning a bare violation into evidence: joined journal lines, active faults, a story.

A rule says *what* is wrong; the witness says *how it got there*, in the terms a person
debugging the orchestrator thinks in: which request, which key, which fault, when (seconds
since the run started).
"""

from __future__ import annotations

from typing import Any

from harness.checkers.steps import EFFECT_STEPS, classify
from harness.checkers.view import View, fmt_money
from harness.checkers.violation import Violation
from harness.history import FaultWindow

JSON = dict[str, Any]
MAX_LINES = 200
MAX_STORY = 14


def fault_json(f: FaultWindow) -> JSON:
    return {
        "fault_id": f.fault_id,
        "target": f.target,
        "fault": f.fault,
        "applied_t": f.applied_t,
        "healed_t": f.healed_t,
        "label": f.label,
    }


_JOIN_FIELDS = ("correlation_id", "idempotency_key")
_ID_FIELDS = ("payment_id", "refund_id", "reservation_id", "shipment_id", "message_id")


def _wanted(v: Violation) -> list[tuple[str, Any]]:
    """(journal field, value) pairs whose entries belong in this violation's witness."""
    out: list[tuple[str, Any]] = []
    if v.order_id is not None:
        out.append(("order_id", v.order_id))
    for lr in v.ledger_rows:
        row = lr.get("row") or {}
        for f in _JOIN_FIELDS:
            if row.get(f) is not None:
                out.append((f, row[f]))
        for f in _ID_FIELDS:
            if row.get(f) is not None:
                out.append(("effect_id", row[f]))
    return out


def join_journals(view: View, violations: list[Violation]) -> None:
    """Fill every violation's journal lines in one pass over the raw journals.

    One pass with set lookups instead of four full indexes and a global sort: a failing
    100k-order run has few violations but ~600k journal lines, so only the matches are
    sorted."""
    targets: dict[tuple[str, Any], list[int]] = {}
    todo = [i for i, v in enumerate(violations) if not v.journal_lines]
    for i in todo:
        for pair in _wanted(violations[i]):
            targets.setdefault(pair, []).append(i)
    if not targets:
        return
    fields = {f for f, _ in targets}
    found: dict[int, dict[int, JSON]] = {i: {} for i in todo}
    for service, entries in view.snapshot.journals.items():
        for e in entries:
            for f in fields:
                val = e.get(f)
                if val is None:
                    continue
                hit = targets.get((f, val))
                if hit:
                    if e.get("service") is None:
                        e = {**e, "service": service}
                    for i in hit:
                        found[i][id(e)] = e
    for i, lines in found.items():
        ordered = sorted(
            lines.values(),
            key=lambda e: (e.get("t") or 0.0, e.get("service") or "", e.get("seq") or 0),
        )
        violations[i].journal_lines = ordered[:MAX_LINES]


def _window(view: View, v: Violation, lines: list[JSON]) -> tuple[float, float] | None:
    ts = [float(e["t"]) for e in lines if e.get("t") is not None]
    ts += [
        float(r["row"]["created_at"])
        for r in v.ledger_rows
        if (r.get("row") or {}).get("created_at") is not None
    ]
    if v.order_id is not None:
        for src in (view.submitted_t, view.terminal_t):
            if v.order_id in src:
                ts.append(src[v.order_id])
    if v.t is not None:
        ts.append(v.t)
    return (min(ts), max(ts)) if ts else None


def enrich_all(view: View, violations: list[Violation]) -> list[Violation]:
    join_journals(view, violations)
    for v in violations:
        enrich(view, v)
    return violations


def enrich(view: View, v: Violation) -> Violation:
    """Fill journal lines, faults and the account (keeps whatever the rule already set)."""
    if not v.journal_lines:
        join_journals(view, [v])
    window = _window(view, v, v.journal_lines)
    if not v.faults and window is not None:
        v.faults = [fault_json(f) for f in view.faults if f.overlaps(*window)]
    if not v.account:
        v.account = account(view, v)
    return v


def _effect_phrase(view: View, e: JSON, step: str) -> str:
    eid, svc, status = e.get("effect_id"), e.get("service"), e.get("status")
    if e.get("replayed"):
        return f"{svc} replayed its stored answer for {eid or step} (no new effect)"
    ok = isinstance(status, int) and 200 <= status < 300
    if not ok:
        return f"{svc} refused the {step} with {status}"
    if step == "capture":
        p = view.payments_by_id.get(eid) or {}
        return f"{svc} {eid} captured {fmt_money(p.get('amount_cents'), p.get('currency'))}"
    if step == "refund":
        return f"{svc} made refund {eid}"
    if step == "reserve":
        return f"inventory held reservation {eid}"
    if step == "release":
        return f"inventory released {eid or 'a reservation'}"
    if step == "ship":
        return f"shipping created shipment {eid}"
    if step == "cancel":
        return f"shipping cancelled {eid or 'a shipment'}"
    if step == "notify":
        template = (view.messages_by_id.get(eid) or {}).get("template", "a message")
        return f"notify sent {template} ({eid})"
    return f"{svc} answered {status}"


def _fault_phrase(fault: JSON) -> str:
    kind, phase, rid = fault.get("kind"), fault.get("phase"), fault.get("rule_id")
    if phase == "after_commit" and kind in ("drop", "reset", "malformed"):
        return f"the answer was lost to fault rule {rid} ({kind} after commit)"
    if phase == "after_commit" and kind == "hold":
        return f"the answer was held by fault rule {rid} after commit"
    if kind == "delay":
        return f"the answer was delayed by fault rule {rid}"
    return f"fault rule {rid} answered instead ({kind} {phase}, nothing done)"


def account(view: View, v: Violation) -> str:
    """The plain-English story: effectful requests in time order, with their keys, the
    faults that hit them, and what the orchestrator finally reported."""
    rel = view.t0
    parts: list[str] = []
    last_key: dict[tuple[Any, str], Any] = {}
    for e in v.journal_lines:
        step = classify(e.get("service"), e.get("method"), e.get("path"))
        fault = e.get("fault")
        if step not in EFFECT_STEPS and not fault:
            continue
        t = float(e.get("t") or 0.0) - rel
        key = e.get("idempotency_key")
        slot = (e.get("service"), step)
        retry = ""
        if slot in last_key and step in EFFECT_STEPS:
            prev = last_key[slot]
            if key is None:
                retry = "the orchestrator retried without an Idempotency-Key and "
            elif key == prev:
                retry = "the orchestrator retried with the same Idempotency-Key and "
            else:
                retry = "the orchestrator retried with a new Idempotency-Key and "
        last_key[slot] = key
        phrase = (
            _effect_phrase(view, e, step)
            if step in EFFECT_STEPS
            else f"{e.get('service')} {e.get('method')} {e.get('path')}"
        )
        s = f"{retry}{phrase} at {t:.3f} s"
        toxics = [
            f.label
            for f in view.faults
            if not f.is_http_rule
            and f.target == e.get("service")
            and f.active_at(float(e.get("t") or 0.0))
        ]
        if toxics:
            s += f" while {e.get('service')} was behind {' and '.join(toxics)}"
        if fault:
            s += f"; {_fault_phrase(fault)}"
        parts.append(s)
    if len(parts) > MAX_STORY:
        parts = parts[: MAX_STORY - 1] + [
            f"... ({len(parts) - MAX_STORY + 1} more steps)",
            parts[-1],
        ]
    if v.order_id is not None and v.order_id in view.orders:
        status = view.status(v.order_id)
        reason = (view.reported.get(v.order_id) or {}).get("reason")
        if status is None:
            parts.append("the orchestrator does not know the order")
        else:
            parts.append(
                f"it reported the order {status}" + (f" (reason: {reason})" if reason else "")
            )
    story = "; ".join(parts)
    story = story[:1].upper() + story[1:]
    return f"{v.message}. {story}." if story else f"{v.message}."
