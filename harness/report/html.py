"""One self-contained HTML report: timeline, violations with witnesses, traces, ledger diffs.

Everything is inline (CSS, a few lines of JS, SVG) and nothing refers to the network, so
the file can be attached to a CI run and opened anywhere, offline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from fracas.harness.checkers.engine import CheckResult
from fracas.harness.checkers.picture import picture
from fracas.harness.checkers.summary import summarize
from fracas.harness.checkers.view import View, fmt_money
from fracas.harness.checkers.violation import Violation
from fracas.harness.checkers.witness import received
from fracas.harness.report.common import (
    PALETTE,
    fault_line,
    group_by_order,
    message_parts,
    rule_rank,
)
from fracas.harness.report.timeline import render_timeline

JSON = dict[str, Any]
MAX_TRACES = 40
MAX_VIOLATIONS = 200

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;background:#fafafa}
header{padding:14px 24px;background:#1d232a;color:#fff}header h1{margin:0;font-size:20px}
.ok{color:$ok}.ko{color:$violation}main{padding:8px 24px 40px}
header .ok,header .ko,header .failed,header .race{color:#fff;border-radius:4px;padding:0 8px}
header .ok{background:$ok}header .ko{background:$violation}header .failed{background:$failed}
header .race{background:$fault}.race-note{border-left:4px solid $fault;background:#fff;padding:6px 12px}
h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.viol{border-left:4px solid $violation;background:#fff;padding:8px 14px;margin:12px 0;box-shadow:0 1px 2px #0001}
.viol h3{margin:2px 0 6px;font-size:15px}.rule{background:$violation;color:#fff;border-radius:3px;padding:1px 6px;font-size:12px}
.account{font-size:14px;margin:6px 0 8px}.finding{margin:4px 0}.exp{color:$ok}.act{color:$violation;font-weight:600}
tr.fault td{background:#f3e8ff}tr.redelivered td{background:#fff1e5}tr.hist td{background:#eef6ff}tr.flag td{background:#fbe4f1}
.oid{cursor:pointer;text-decoration:underline dotted;font-weight:600}
.timeline{background:#fff;border:1px solid #ddd}.lane{fill:#f6f8fa}.ln{font-size:12px;fill:#333}
.ax{font-size:10px;fill:#666;text-anchor:middle}.grid{stroke:#e5e5e5}
.band{fill:$fault;opacity:.22}.band.rule{opacity:.1}.tk{opacity:.75}.t2{fill:$2xx}.t4{fill:$4xx}.t5{fill:$5xx}
.tu{fill:$no_answer}.tf{fill:$fault;opacity:1}.tr{fill:$replayed}.op{fill:$orchestrator_op;opacity:.6}
.bad{fill:$violation;opacity:1;stroke:#5c0f3a;stroke-width:.6}.hl{fill:$highlight!important;opacity:1;stroke:#000;stroke-width:1}
.note{color:#666;font-size:12px}details{margin:4px 0}summary{cursor:pointer}
.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
"""


def _css() -> str:
    out = _CSS
    for name in sorted(PALETTE, key=len, reverse=True):  # "$fault_band" before "$fault"
        out = out.replace(f"${name}", PALETTE[name])
    return out


CSS = _css()

#: The timeline legend: (meaning, palette key). Every swatch a different colour.
LEGEND = (
    ("2xx/3xx", "2xx"),
    ("4xx", "4xx"),
    ("5xx", "5xx"),
    ("no answer", "no_answer"),
    ("fault fired", "fault"),
    ("replayed", "replayed"),
    ("orchestrator call", "orchestrator_op"),
    ("violating order", "violation"),
    ("fault band (network/process; paler: HTTP rule armed)", "fault_band"),
)

JS = """
function hl(o){document.querySelectorAll('#timeline [data-o]').forEach(function(e){
 if(e.getAttribute('data-o')===o){e.classList.toggle('hl')}else{e.classList.remove('hl')}});
 var t=document.getElementById('trace-'+o);if(t){t.open=true;}}
document.querySelectorAll('.oid').forEach(function(e){e.addEventListener('click',function(){hl(e.getAttribute('data-o'))})});
document.querySelectorAll('#timeline [data-o]').forEach(function(e){e.addEventListener('click',function(){
 var o=e.getAttribute('data-o');hl(o);var t=document.getElementById('trace-'+o);if(t){t.scrollIntoView({block:'center'})}})});
"""


def _meta_value(v: Any) -> str:
    """Timings (seconds) as milliseconds, other mappings as key: value pairs."""
    if isinstance(v, Mapping):
        return ", ".join(
            f"{k} {val * 1000:.1f} ms" if isinstance(val, float) else f"{k}: {val}"
            for k, val in v.items()
        )
    return str(v)


def _e(x: Any) -> str:
    return escape("" if x is None else str(x))


def _oid(o: Any) -> str:
    return f'<span class="oid" data-o="{_e(o)}">{_e(o)}</span>' if o is not None else "—"


def _table(rows: list[list[str]], head: list[str], cls: list[str] | None = None) -> str:
    h = "".join(f"<th>{_e(c)}</th>" for c in head)
    body = []
    for i, r in enumerate(rows):
        c = f' class="{cls[i]}"' if cls and cls[i] else ""
        body.append(f"<tr{c}>" + "".join(f"<td>{cell}</td>" for cell in r) + "</tr>")
    return f"<table><tr>{h}</tr>{''.join(body)}</table>"


def _journal_table(
    lines: Sequence[Mapping[str, Any]], t0: float, messages: Sequence[Mapping[str, Any]] = ()
) -> str:
    """The journal lines, and a choreography's broker messages between them in time order
    (the broker's lane of the witness: what it stored, delivered again, saw acked)."""
    timed: list[tuple[float, list[str], str]] = []
    for m in messages:
        what, outcome = message_parts(m)
        timed.append((float(m.get("t") or 0.0),
                      [f"{float(m.get('t') or 0.0) - t0:.3f}s", "broker",
                       f"<code>{_e(what)}</code>", _e(outcome), "", "", "", ""],
                      "redelivered" if m.get("kind") == "redelivered" else ""))  # fmt: skip
    for e in lines:
        f = e.get("fault")
        timed.append((float(e.get("t") or 0.0), _journal_row(e, t0), "fault" if f else ""))
    timed.sort(key=lambda x: x[0])
    return _table(
        [r for _, r, _ in timed],
        ["t", "service", "request", "client got", "idempotency key", "effect", "", "fault"],
        [c for _, _, c in timed],
    )


def _journal_row(e: Mapping[str, Any], t0: float) -> list[str]:
    f = e.get("fault")
    return [
        f"{float(e.get('t') or 0.0) - t0:.3f}s",
        _e(e.get("service")),
        f"<code>{_e(e.get('method'))} {_e(e.get('path'))}</code>",
        _e(received(e)),
        f"<code>{_e(e.get('idempotency_key') or '')}</code>",
        _e(e.get("effect_id")),
        "replayed" if e.get("replayed") else "",
        _e(f"{f.get('rule_id')} {f.get('kind')} {f.get('phase')}") if f else "",
    ]


def _ledger_table(rows: Sequence[Mapping[str, Any]]) -> str:
    out = []
    for r in rows:
        row = r.get("row") or {}
        ident = next(
            (
                row[k]
                for k in (
                    "payment_id",
                    "refund_id",
                    "reservation_id",
                    "shipment_id",
                    "message_id",
                    "sku",
                )
                if row.get(k) is not None
            ),
            "",
        )
        detail = {
            k: v
            for k, v in row.items()
            if k not in ("seq", "correlation_id", "address", "card_token")
        }
        out.append(
            [
                f"{_e(r.get('service'))}.{_e(r.get('table'))}",
                _e(ident),
                f"<code>{_e(json.dumps(detail, default=str))}</code>",
            ]
        )
    return _table(out, ["table", "id", "row"])


def _diff_table(v: Violation, whose: str = "") -> str:
    keys = list(dict.fromkeys([*v.expected, *v.actual]))
    if not keys:
        return ""
    rows = []
    for k in keys:
        exp, act = v.expected.get(k, "—"), v.actual.get(k, "—")
        cls = "same" if exp == act else "act"
        rows.append(
            [_e(k), f'<span class="exp">{_e(exp)}</span>', f'<span class="{cls}">{_e(act)}</span>']
        )
    return f"<b>Ledger diff{_e(whose)}</b>" + _table(rows, ["what", "expected", "actual"])


def _once(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows or journal lines that several rules attached to one order, each kept once."""
    seen: dict[str, Mapping[str, Any]] = {}
    for item in items:
        seen.setdefault(json.dumps(item, sort_keys=True, default=str), item)
    return list(seen.values())


def _order_html(vs: Sequence[Violation], t0: float) -> str:
    """One order's witness, told once: every rule it broke named in the heading, each
    rule's finding and ledger diff inside, the faults, ledger rows and journal once (a
    double charge also breaks completed-ledger, and is one story, not two)."""
    first = vs[0]
    rules = " ".join(f'<span class="rule">{_e(r)}</span>' for r in dict.fromkeys(v.rule for v in vs))
    where = f"order {_oid(first.order_id)}" if first.order_id is not None else "run-wide"
    findings = "".join(
        f'<div class="finding"><span class="rule">{_e(v.rule)}</span> {_e(v.message)}</div>'
        + _diff_table(v, f" for {v.rule}")
        for v in vs
    ) if len(vs) > 1 else _diff_table(first)  # fmt: skip
    seen = {fault_line(f, t0): f for v in vs for f in v.faults}
    faults = "".join(f"<li>{_e(line)}</li>" for line in seen)
    rows = _once([r for v in vs for r in v.ledger_rows])
    lines = sorted(_once([e for v in vs for e in v.journal_lines]),
                   key=lambda e: float(e.get("t") or 0.0))  # fmt: skip
    messages = _once([m for v in vs for m in v.messages])
    title = "Journal lines and broker messages" if messages else "Journal lines"
    return (
        f'<div class="viol" id="v-{_e(first.rule)}-{_e(first.order_id)}"><h3>{rules} {where}</h3>'
        f'<div class="account">{_e(first.account or first.message)}</div>'
        + findings
        + (f"<b>Faults active</b><ul>{faults}</ul>" if faults else "")
        + f"<details><summary>Ledger rows ({len(rows)})</summary>{_ledger_table(rows)}</details>"
        + f"<details><summary>{title} ({len(lines) + len(messages)})</summary>"
        + f"{_journal_table(lines, t0, messages)}</details>"
        + "</div>"
    )


def _trace(view: View, oid: str, hist_events: list[Any], bad: bool) -> str:
    t0 = view.t0
    rows: list[tuple[float, list[str], str]] = []
    for ev in hist_events:
        data = json.dumps({k: v for k, v in ev.data.items() if k != "order"}, default=str)
        rows.append(
            (
                ev.t,
                [
                    f"{ev.t - t0:.3f}s",
                    "orchestrator",
                    _e(f"{ev.op} {ev.type}"),
                    f"<code>{_e(data)}</code>",
                ],
                "hist",
            )
        )
    for e in view.journal_by_order.get(oid, ()):
        f = e.get("fault")
        desc = received(e)
        if e.get("idempotency_key") is not None:
            desc += f" key={e['idempotency_key']}"
        if e.get("effect_id") is not None:
            desc += f" effect={e['effect_id']}"
        if e.get("replayed"):
            desc += " replayed"
        if f:
            desc += f" FAULT {f.get('rule_id')} {f.get('kind')} {f.get('phase')}"
        rows.append(
            (
                float(e.get("t") or 0.0),
                [
                    f"{float(e.get('t') or 0.0) - t0:.3f}s",
                    _e(e.get("service")),
                    f"<code>{_e(e.get('method'))} {_e(e.get('path'))}</code>",
                    f"<code>{_e(desc)}</code>",
                ],
                "fault" if f else "",
            )
        )
    rows.sort(key=lambda r: r[0])
    pic = picture(view, oid).to_json()
    order = view.orders.get(oid) or {}
    exp = view.expected_charge(oid)
    head = (
        f"{_oid(oid)} — reported <b>{_e(view.status(oid))}</b>; expected charge "
        f"{_e(fmt_money(exp, order.get('currency')))}; ledgers: <code>{_e(json.dumps(pic))}</code>"
    )
    return (
        f'<details id="trace-{_e(oid)}"{" open" if bad else ""}><summary>{"⚠ " if bad else ""}{head}</summary>'
        + _table([r[1] for r in rows], ["t", "where", "what", "detail"], [r[2] for r in rows])
        + "</details>"
    )


def _stock_diff(view: View, flagged: set[str]) -> str:
    rows, cls = [], []
    for s in view.stock:
        sku = str(s.get("sku"))
        on_hand, held, init = (
            int(s.get("on_hand") or 0),
            int(s.get("held") or 0),
            int(s.get("initial_on_hand") or 0),
        )
        if sku not in flagged and on_hand == init and held == 0:
            continue
        rows.append([_e(sku), _e(init), _e(on_hand), _e(held), _e(on_hand + held - init)])
        cls.append("flag" if sku in flagged else "")
    order = sorted(range(len(rows)), key=lambda i: (cls[i] != "flag", i))[:100]
    return (
        _table(
            [rows[i] for i in order],
            ["sku", "initial", "on_hand", "held", "on_hand+held−initial"],
            [cls[i] for i in order],
        )
        if rows
        else "<p>No stock moved.</p>"
    )


def _summary_html(s: Mapping[str, Any]) -> str:
    out = [_table([[_e(k), _e(v)] for k, v in s["outcomes"].items()], ["outcome", "orders"])]
    out.append(
        _table(
            [[_e(k), _e(v)] for k, v in {**s["requests"], **s["compensations"]}.items()],
            ["requests and compensations", ""],
        )
    )
    tts = {
        **s["time_to_settle_s"],
        "last order after last heal": s.get("settled_after_last_heal_s"),
    }
    out.append(_table([[_e(k), _e(v)] for k, v in tts.items()], ["time to settle", "s"]))
    out.append(
        _table(
            [
                [
                    _e(r[k])
                    for k in (
                        "step",
                        "requests",
                        "orders",
                        "per_order_mean",
                        "per_order_max",
                        "retries_same_key",
                        "new_key_attempts",
                        "replayed",
                    )
                ]
                for r in s["steps"]
            ],
            [
                "step",
                "requests",
                "orders",
                "per order",
                "max",
                "retries (same key)",
                "new key",
                "replayed",
            ],
        )
    )
    if s["fault_coverage"]:
        out.append(
            "<b>Fault coverage</b>"
            + _table(
                [
                    [
                        _e(r["step"]),
                        _e(r["fault"]),
                        _e(r["phase"]),
                        _e(r["requests"]),
                        _e(r["orders"]),
                    ]
                    for r in s["fault_coverage"]
                ],
                ["step", "fault", "phase", "requests", "orders"],
            )
        )
    return "".join(out)


def render_html(
    result: CheckResult,
    view: View,
    *,
    title: str = "fracas run",
    summary: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> str:
    t0 = view.t0
    viols = sorted(result.violations, key=lambda v: rule_rank(v.rule))
    bad = {v.order_id for v in viols if v.order_id is not None}
    summ = summary if summary is not None else summarize(view)
    test = str((meta or {}).get("pytest", ""))
    verdict = (
        '<span class="ok">consistent</span>'
        if result.ok
        else f'<span class="ko">{len(viols)} violation(s), {len(result.errors)} rule error(s)</span>'
    )
    if test.startswith("failed") and result.ok:
        verdict += ' <span class="failed">but pytest failed the test</span>'
    races = [str(r) for r in (meta or {}).get("races") or ()]
    if races:
        verdict += ' <span class="race">race</span>'

    hist = view.snapshot.history
    by_order: dict[str, list[Any]] = {}
    chosen = [o for o in view.orders if o in bad][: MAX_TRACES * 5]
    chosen += [o for o in list(view.orders)[:MAX_TRACES] if o not in bad]
    want = set(chosen)
    if hist is not None:
        for ev in hist.events:
            if ev.order_id in want:
                by_order.setdefault(ev.order_id, []).append(ev)
    flagged = {str(v.actual.get("sku")) for v in viols if v.rule == "stock-conservation"}
    legend = "".join(
        f'<span><i class="sw" style="background:{PALETTE[k]}"></i>{_e(n)}</span>'
        for n, k in LEGEND
    )
    meta_rows = (
        _table(
            [[_e(k), f"<code>{_e(_meta_value(v))}</code>"] for k, v in (meta or {}).items()],
            ["run", ""],
        )
        if meta
        else ""
    )
    errors = "".join(f"<pre>{_e(n)}: {_e(tb)}</pre>" for n, tb in result.errors.items())
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{_e(title)}: {verdict}</h1><div>{result.orders} orders · {len(result.rules)} rules · "
        f"checked in {result.seconds * 1000:.1f} ms</div></header><main>",
        _race_note(races, result.ok),
        meta_rows,
        f'<h2>Timeline</h2><div class="legend">{legend}</div>',
        render_timeline(view, bad),
        f"<h2>Violations ({len(viols)})</h2>" + errors,
        "".join(_order_html(vs, t0) for vs in group_by_order(viols[:MAX_VIOLATIONS]))
        or "<p>None.</p>",
        f'<p class="note">{len(viols) - MAX_VIOLATIONS} more in the JSON report.</p>'
        if len(viols) > MAX_VIOLATIONS
        else "",
        "<h2>Order traces</h2>",
        "".join(_trace(view, o, by_order.get(o, []), o in bad) for o in chosen),
        "<h2>Stock diff</h2>",
        _stock_diff(view, flagged),
        "<h2>Resilience summary</h2>",
        _summary_html(summ),
        f"<script>{JS}</script></main></body></html>",
    ]
    return "\n".join(parts)


def _race_note(races: list[str], ok: bool) -> str:
    """Why a race's verdict may not come back on a replay, said where the verdict is."""
    if not races:
        return ""
    then = (
        "This run was consistent; another run may take the other branch."
        if ok
        else "The violations below are real; a replay may take the other branch and pass, "
        "which is the race, not fracas failing to recreate the run. The witness tells the "
        "branch this run took."
    )
    return (
        f'<p class="race-note"><b>A race by nature:</b> {_e("; ".join(races))}. '
        f"Either branch may win on any run. {then}</p>"
    )


def write_html(path: str | Path, html: str) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(html, encoding="utf-8")
    return p
