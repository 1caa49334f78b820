"""Formatting shared by the text and HTML reports (relative times, compact journal and
broker lines)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fracas.harness.checkers.violation import Violation
from fracas.harness.checkers.witness import received

JSON = dict[str, Any]

#: One colour per meaning, everywhere in the reports (timeline, cards, index): a reader
#: who learns that magenta means "violation" is never told otherwise by a 5xx tick.
PALETTE = {
    "ok": "#1a7f37",  # consistent / passed
    "violation": "#bf3989",  # a broken rule, a violating order
    "failed": "#9a6700",  # pytest failed the test without a violation
    "2xx": "#6a737d",
    "4xx": "#e36209",
    "5xx": "#d73a49",
    "no_answer": "#000000",
    "fault": "#8250df",  # a request a fault rule hit
    "fault_band": "#d5c6f5",  # a network/process fault's window (legend swatch)
    "replayed": "#1b7c83",
    "orchestrator_op": "#0366d6",  # submit / status / review calls
    "highlight": "#ffd33d",
    "never_hit": "#fff8c5",  # coverage cell the suite never exercised
}

#: Rules whose violations mean money or goods went wrong: shown first.
RULE_PRIORITY = (
    "double-charge",
    "idempotency",
    "completed-ledger",
    "failed-ledger",
    "stock-conservation",
    "orphan-effects",
    "reported-truth",
    "liveness",
    "event-stored-once",
    "needs-attention",
)


def rule_rank(rule: str) -> int:
    return RULE_PRIORITY.index(rule) if rule in RULE_PRIORITY else len(RULE_PRIORITY)


def group_by_order(ordered: Sequence[Violation]) -> list[list[Violation]]:
    """The violations grouped by order, in the order of each order's first one: a double
    charge also breaks completed-ledger, and is one story, not two. A run-wide violation
    (no order) is a story of its own."""
    groups: dict[object, list[Violation]] = {}
    for i, v in enumerate(ordered):
        groups.setdefault(v.order_id if v.order_id else i, []).append(v)
    return list(groups.values())


def rel(t: Any, t0: float) -> str:
    return "?" if t is None else f"{float(t) - t0:+.3f}s"


def journal_line(e: Mapping[str, Any], t0: float) -> str:
    q = f"?{e['query']}" if e.get("query") else ""
    parts = [
        rel(e.get("t"), t0),
        str(e.get("service")),
        f"{e.get('method')} {e.get('path')}{q}",
        received(e),
    ]
    if e.get("idempotency_key"):
        parts.append(f"key={e['idempotency_key']}")
    if e.get("effect_id"):
        parts.append(f"effect={e['effect_id']}")
    if e.get("replayed"):
        parts.append("REPLAYED")
    f = e.get("fault")
    if f:
        parts.append(f"FAULT[{f.get('rule_id')} {f.get('kind')} {f.get('phase')}]")
    return " ".join(parts)


def message_line(m: Mapping[str, Any], t0: float) -> str:
    """A broker record (harness/broker/tap.py) shaped like a journal line: what the broker
    did with one event of the order, with its own counts (stream sequence, delivery)."""
    what, outcome = message_parts(m)
    return f"{rel(m.get('t'), t0)} broker {what} {outcome}"


def message_parts(m: Mapping[str, Any]) -> tuple[str, str]:
    """(what happened to which event, the broker's answer or counts) for one record."""
    kind, seq = str(m.get("kind")), m.get("stream_seq")
    what = f"{kind} {m.get('event')}"
    if kind == "published":
        if "duplicate" not in m:
            outcome = "no PubAck seen"
        else:
            outcome = f"duplicate of seq {seq}" if m.get("duplicate") else f"stored seq {seq}"
        return what, outcome + (" NO MSG-ID" if m.get("msg_id") is None else "")
    to = "to" if kind in ("delivered", "redelivered") else "by"
    return what, f"{to} {m.get('consumer')} (delivery {m.get('delivery')}, seq {seq})"


def witness_lines(
    journal: Sequence[Mapping[str, Any]], messages: Sequence[Mapping[str, Any]], t0: float
) -> list[str]:
    """The journal lines and the broker's messages as one story in time order (a run
    without a broker gives its journal lines as they were)."""
    if not messages:
        return [journal_line(e, t0) for e in journal]
    timed = [(float(e.get("t") or 0.0), journal_line(e, t0)) for e in journal]
    timed += [(float(m.get("t") or 0.0), message_line(m, t0)) for m in messages]
    timed.sort(key=lambda x: x[0])
    return [line for _, line in timed]


def ledger_line(r: Mapping[str, Any]) -> str:
    row = r.get("row") or {}
    skip = {"seq", "correlation_id", "card_token", "address", "tracking_number", "customer_id"}
    fields = " ".join(f"{k}={v}" for k, v in row.items() if k not in skip and v is not None)
    return f"{r.get('service')}.{r.get('table')}: {fields}"


def fault_line(f: Mapping[str, Any], t0: float) -> str:
    healed = "never healed" if f.get("healed_t") is None else f"healed {rel(f.get('healed_t'), t0)}"
    return f"{f.get('label')} on {f.get('target')}, applied {rel(f.get('applied_t'), t0)}, {healed}"
