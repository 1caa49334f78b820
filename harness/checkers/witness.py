"""Turning a bare violation into evidence: joined journal lines, active faults, a story.

A rule says *what* is wrong; the witness says *how it got there*, in the terms a person
debugging the orchestrator thinks in: which request, which key, which fault, when (seconds
since the run started).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fracas.fakes.contract import record_steps
from fracas.harness.checkers.broker_witness import join_messages
from fracas.harness.checkers.view import View, fmt_money
from fracas.harness.checkers.violation import Violation
from fracas.harness.model.history import CLIENT_OPS, CLIENT_REVIEW, FaultWindow
from fracas.harness.model.steps import classify, effect_steps

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


def received(e: Mapping[str, Any]) -> str:
    """What the client got for a journal line: a fault rule's injected status, or no answer
    at all, rather than the fake's own status (after commit the fake did answer 201, but
    the client never saw it)."""
    status = e.get("status")
    fault = e.get("fault") or {}
    kind = fault.get("kind")
    if fault.get("aborted"):
        return "no answer (held, then dropped)"
    if kind == "status":
        return str(fault.get("status", status))
    if kind == "drop":
        return "no answer (dropped)"
    if kind == "reset":
        return "no answer (connection reset)"
    if status is None:
        return "no answer"
    if kind == "malformed":
        shape = fault.get("shape")
        return f"{status} with a malformed body" + (f" ({shape})" if shape else "")
    if kind == "delay" and fault.get("ms") is not None:
        return f"{status} after {fault['ms']} ms"
    return str(status)


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
    join_messages(view, violations)
    for v in violations:
        enrich(view, v)
    return violations


def _rule_hit(f: FaultWindow, lines: list[JSON]) -> bool:
    """An HTTP rule belongs to a witness only when it hit one of the witness's requests."""
    rid = f.fault.get("id")
    for e in lines:
        tag = e.get("fault")
        if not tag or e.get("service") != f.target:
            continue
        if rid is None or tag.get("rule_id") == rid:
            return True
    return False


def _order_span(view: View, oid: str, lines: list[JSON]) -> tuple[float, float] | None:
    """From the order's submission to its last request (or the client seeing it end)."""
    ts = [float(e["t"]) for e in lines if e.get("t") is not None]
    start = view.submitted_t.get(oid, min(ts, default=None))
    end = max(ts, default=view.terminal_t.get(oid))
    if start is None or end is None:
        return None
    return min(start, end), max(start, end)


def active_faults(view: View, v: Violation) -> list[JSON]:
    """The faults that were around this witness's requests: an HTTP rule that hit one of
    them, a network or process fault whose window overlaps the order's life (a refused
    connection leaves no journal line, so the life span, not the lines, decides). A fault
    elsewhere in the run is not evidence and is left out."""
    lines = v.journal_lines
    if v.order_id is not None:
        span = _order_span(view, v.order_id, lines)
    else:
        span = _window(view, v, lines)
    out = []
    for f in view.faults:
        if f.is_http_rule:
            keep = _rule_hit(f, lines)
        else:
            keep = span is not None and f.overlaps(*span)
        if keep:
            out.append(fault_json(f))
    return out


def enrich(view: View, v: Violation) -> Violation:
    """Fill journal lines, broker messages, faults and the account (keeps whatever the
    rule already set)."""
    if not v.journal_lines:
        join_journals(view, [v])
    if not v.messages:
        join_messages(view, [v])
    if not v.faults:
        v.faults = active_faults(view, v)
    if not v.account:
        v.account = account(view, v)
    return v


_NOT_DONE = {
    "capture": "captured nothing",
    "refund": "refunded nothing",
    "reserve": "held nothing",
    "release": "released nothing",
    "ship": "created no shipment",
    "cancel": "cancelled nothing",
    "notify": "sent nothing",
}


def _effect_phrase(view: View, e: JSON, step: str) -> str:
    eid, svc, status = e.get("effect_id"), e.get("service"), e.get("status")
    fault = e.get("fault") or {}
    if fault and (fault.get("phase") != "after_commit") and fault.get("kind") not in (
        "delay",
        "hold",
    ) or fault.get("aborted"):
        return f"{svc} {_NOT_DONE.get(step, 'did nothing')} ({step} not done)"
    if e.get("replayed"):
        return f"{svc} replayed its stored answer for {eid or step} (no new effect)"
    ok = isinstance(status, int) and 200 <= status < 300
    if not ok:
        return f"{svc} refused the {step} with {status}"
    if eid is None and step in record_steps():
        return f"{svc} answered {status} but recorded no {step}"
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


def _fault_phrase(e: JSON) -> str:
    fault = e.get("fault") or {}
    kind, phase, rid = fault.get("kind"), fault.get("phase"), fault.get("rule_id")
    got = received(e)
    if fault.get("aborted"):
        return f"fault rule {rid} held the request and then dropped it; the client got {got}"
    if phase == "after_commit" and kind in ("drop", "reset", "malformed", "status"):
        return f"the answer was lost to fault rule {rid} ({kind} after commit): the client got {got}"
    if phase == "after_commit" and kind == "hold":
        return f"the answer was held by fault rule {rid} after commit"
    if kind == "delay":
        return f"the answer was delayed by fault rule {rid}"
    if kind == "hold":
        return f"fault rule {rid} held the request before doing it"
    return f"fault rule {rid} answered instead, before commit: the client got {got}"


def _inputs_told(view: View, v: Violation) -> list[tuple[float, str]]:
    """The inputs client faults sent about the order, with their answers: a refused
    input that still had an effect is the story, so it is told where it happened."""
    h = view.snapshot.history
    if h is None or v.order_id is None:
        return []
    out: list[tuple[float, str]] = []
    for op in h.ops():
        data = op.invoke.data
        if op.order_id != v.order_id or op.op not in CLIENT_OPS:
            continue
        what = f"sent {data.get('decision')}" if op.op == CLIENT_REVIEW else "sent POST /orders"
        done = op.completion.data if op.completion else {}
        got = done.get("status_code") or "no answer"
        race = " (a race)" if data.get("race") else ""
        out.append((op.invoke.t, f"the client input {data.get('kind')}{race} {what} "
                    f"{data.get('note') or ''} at {op.invoke.t - view.t0:.3f} s, "
                    f"answered {got}{_said(done.get('body'))}"))  # fmt: skip
    return out


def _said(body: Any) -> str:
    """What an answer's body said, briefly: a problem's type and detail, or the order's
    status; a refusal's words are part of the story (it may have refused and acted)."""
    if not isinstance(body, dict) or not body:
        return ""
    if isinstance(body.get("type"), str):
        detail = body.get("detail") or body.get("title") or ""
        return f" ({body['type']}{': ' + str(detail) if detail else ''})"
    if isinstance(body.get("status"), str):
        return f" (the order {body['status']})"
    return ""


def account(view: View, v: Violation) -> str:
    """The plain-English story: effectful requests in time order, with their keys, the
    faults that hit them, and what the orchestrator finally reported."""
    rel = view.t0
    timed: list[tuple[float, str]] = _inputs_told(view, v)
    last_key: dict[tuple[Any, str], Any] = {}
    effects = effect_steps()
    for e in v.journal_lines:
        step = classify(e.get("service"), e.get("method"), e.get("path"))
        fault = e.get("fault")
        if step not in effects and not fault:
            continue
        t = float(e.get("t") or 0.0) - rel
        key = e.get("idempotency_key")
        slot = (e.get("service"), step)
        retry = ""
        if slot in last_key and step in effects:
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
            if step in effects
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
            s += f"; {_fault_phrase(e)}"
        timed.append((float(e.get("t") or 0.0), s))
    parts = [s for _, s in sorted(timed, key=lambda x: x[0])]
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
