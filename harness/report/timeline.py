"""The run as an inline SVG: one swimlane per service, fault bands, one tick per request.

Inline SVG (no xmlns fetch, no fonts, no scripts from anywhere) so the report opens
offline. Large runs are sampled: every tick of a violating order and every faulted request
is kept, the rest are thinned to ``max_ticks``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from fracas.fakes.contract import service_names
from fracas.harness.checkers.view import View
from fracas.harness.checkers.witness import received

JSON = dict[str, Any]
ORCHESTRATOR = "orchestrator"
#: A choreography's broker: its lane holds the messages it moved (docs/choreography.md).
BROKER = "broker"
LEFT, WIDTH, LANE_H, TOP = 96, 1100, 34, 24


def lane_names(view: View) -> list[str]:
    """The orchestrator's lane, then one per service: the contract's, then any other that
    has a journal, a journal line or a fault, so no service's events land in the
    orchestrator's lane."""
    lanes = [ORCHESTRATOR, *service_names()]
    hist = view.snapshot.history
    if hist is not None and hist.messages:
        lanes.append(BROKER)
    seen = set(lanes)
    for s in (
        *view.snapshot.journals,
        *dict.fromkeys(str(e.get("service")) for e in view.journal),
        *(f.target for f in view.faults),
    ):
        if s not in seen:
            seen.add(s)
            lanes.append(s)
    return lanes


def _status_class(e: Mapping[str, Any]) -> str:
    if e.get("fault"):
        return "tf"
    if e.get("replayed"):
        return "tr"
    s = e.get("status")
    if not isinstance(s, int):
        return "tu"
    return "t2" if s < 400 else ("t4" if s < 500 else "t5")


def _sample(entries: list[JSON], keep: set[Any], max_ticks: int) -> tuple[list[JSON], bool]:
    if len(entries) <= max_ticks:
        return entries, False
    must = [e for e in entries if e.get("order_id") in keep or e.get("fault")]
    rest = [e for e in entries if not (e.get("order_id") in keep or e.get("fault"))]
    room = max(0, max_ticks - len(must))
    stride = max(1, len(rest) // room) if room else len(rest) + 1
    picked = must + rest[::stride][:room]
    picked.sort(key=lambda e: e.get("t") or 0.0)
    return picked, True


#: A redelivery stands out like a 4xx: the broker gave an event again.
_MESSAGE_CLASS = {"published": "t2", "delivered": "tu", "acked": "tr", "redelivered": "t4"}


def _message_ticks(messages: list[JSON], bad: set[Any], x: Any, lane: float | None,
                   t0: float) -> list[str]:
    """A choreography's messages on the broker's lane: one tick per publish, delivery,
    redelivery and ack, each titled with its event, consumer and delivery count."""
    if lane is None:
        return []
    out = []
    for m in messages:
        oid, kind = m.get("order_id"), str(m.get("kind"))
        cls = _MESSAGE_CLASS.get(kind, "tu") + (" bad" if oid in bad else "")
        tip = (f"{float(m['t']) - t0:.3f}s broker {kind} {m.get('event')} "
               f"consumer={m.get('consumer')} delivery={m.get('delivery')} order={oid}")  # fmt: skip
        out.append(
            f'<rect class="tk {cls}" data-o="{escape(str(oid))}" x="{x(float(m["t"])):.1f}" '
            f'y="{lane + 5}" width="2.5" height="{LANE_H - 14}"><title>{escape(tip)}</title></rect>'
        )
    return out


def render_timeline(view: View, bad_orders: Iterable[Any], *, max_ticks: int = 6000) -> str:
    bad = set(bad_orders)
    t0 = view.t0
    hist = view.snapshot.history
    ops = [ev for ev in hist.events if ev.type == "invoke"] if hist is not None else []
    faults = view.faults
    ts = [float(e["t"]) for e in view.journal if e.get("t") is not None]
    ts += (
        [ev.t for ev in ops]
        + [f.applied_t for f in faults]
        + [f.healed_t for f in faults if f.healed_t]
    )
    start = min([t0, *ts])
    end = max(ts, default=start)
    span = max(0.05, (end - start) * 1.05)

    def x(t: float) -> float:
        return LEFT + (t - start) / span * WIDTH

    lanes = lane_names(view)
    y = {name: TOP + i * LANE_H for i, name in enumerate(lanes)}
    height = TOP + len(lanes) * LANE_H + 8
    out = [
        f'<svg id="timeline" class="timeline" viewBox="0 0 {LEFT + WIDTH + 40} {height}" '
        f'width="100%" role="img" aria-label="timeline">'
    ]
    for i in range(9):  # axis
        t = start + span * i / 8
        out.append(
            f'<line class="grid" x1="{x(t):.1f}" y1="{TOP - 4}" x2="{x(t):.1f}" y2="{height - 8}"/>'
            f'<text class="ax" x="{x(t):.1f}" y="{TOP - 8}">{t - t0:.2f}s</text>'
        )
    for name in lanes:
        out.append(
            f'<rect class="lane" x="{LEFT}" y="{y[name]}" width="{WIDTH}" height="{LANE_H - 4}"/>'
            f'<text class="ln" x="4" y="{y[name] + LANE_H / 2 + 2}">{escape(name)}</text>'
        )
    for f in faults:  # fault bands
        x1, x2 = x(f.applied_t), x(f.healed_t if f.healed_t is not None else end)
        out.append(
            f'<rect class="band{" rule" if f.is_http_rule else ""}" x="{x1:.1f}" y="{y[f.target] - 2}" width="{max(2.0, x2 - x1):.1f}" '
            f'height="{LANE_H}"><title>{escape(f.label)} on {escape(f.target)}: '
            f"{f.applied_t - t0:.3f}s to "
            f"{'never healed' if f.healed_t is None else f'{f.healed_t - t0:.3f}s'}</title></rect>"
        )
    entries, sampled = _sample(view.journal, bad, max_ticks)
    for e in entries:
        if e.get("t") is None:
            continue
        oid = e.get("order_id")
        cls = _status_class(e) + (" bad" if oid in bad else "")
        yy = y[str(e.get("service"))]
        tip = f"{float(e['t']) - t0:.3f}s {e.get('service')} {e.get('method')} {e.get('path')} -> {received(e)} order={oid}"
        if e.get("fault"):
            tip += f" fault={e['fault'].get('rule_id')} {e['fault'].get('kind')} {e['fault'].get('phase')}"
        out.append(
            f'<rect class="tk {cls}" data-o="{escape(str(oid))}" x="{x(float(e["t"])):.1f}" '
            f'y="{yy + 5}" width="2.5" height="{LANE_H - 14}"><title>{escape(tip)}</title></rect>'
        )
    out += _message_ticks(hist.messages if hist is not None else [], bad, x, y.get(BROKER), t0)
    op_sample, _ = _sample(
        [{"t": ev.t, "order_id": ev.order_id, "op": ev.op} for ev in ops], bad, max_ticks // 3
    )
    for o in op_sample:
        oid = o.get("order_id")
        cls = "op" + (" bad" if oid in bad else "")
        out.append(
            f'<circle class="{cls}" data-o="{escape(str(oid))}" cx="{x(float(o["t"])):.1f}" '
            f'cy="{y[ORCHESTRATOR] + LANE_H / 2 - 2}" r="2.5"><title>{float(o["t"]) - t0:.3f}s '
            f"{escape(str(o['op']))} {escape(str(oid))}</title></circle>"
        )
    out.append("</svg>")
    note = (
        '<p class="note">Large run: ticks are sampled; every tick of a violating order and every faulted request is shown.</p>'
        if sampled
        else ""
    )
    return "\n".join(out) + note
