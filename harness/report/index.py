"""The index page and ``index.json``: what the suite tested, what failed, and what it
never touched.

Read first by someone who did not run the suite, so it answers "what happened?" before
any click: the orchestrator's command, seed, profile and date; totals; the failing runs
first, each with pytest's outcome, its faults, its duration and the command that replays
it; and the suite-wide fault coverage table.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from fracas.harness.report.common import PALETTE
from fracas.harness.report.outcome import SessionInfo, TestOutcome

JSON = dict[str, Any]

INDEX_CSS = f"""
.ok{{color:{PALETTE["ok"]}}}.ko{{color:{PALETTE["violation"]};font-weight:600}}
.failed{{color:{PALETTE["failed"]};font-weight:600}}.skipped{{color:#57606a}}
td.hit{{font-weight:600;text-align:right}}td.none{{background:{PALETTE["never_hit"]};color:#57606a;text-align:right}}
.totals span{{margin-right:18px}}
"""


def run_row(stem: str, run: Any, outcome: TestOutcome | None, html: str, json_name: str) -> JSON:
    """One run's line of the index, as JSON (the HTML is drawn from this)."""
    v = run.verdict
    history = getattr(run, "history", None)
    faults = [f"{f.label} on {f.target}" for f in history.faults()] if history else []
    timings: Mapping[str, float] = getattr(run, "timings", None) or {}
    duration = sum(
        float(timings.get(k, 0.0)) for k in ("reset_total", "workload", "settle", "check")
    )
    return {
        "run": stem,
        "html": html,
        "json": json_name,
        "test": outcome.to_json() if outcome else None,
        "ok": v.ok,
        "violations": len(v.violations),
        "rules": sorted({x.rule for x in v.violations}),
        "orders": v.orders,
        "faults": faults,
        "races": history.races() if history else [],
        "duration_s": round(duration, 3) if timings else None,
        "replay": replay_command(run),
    }


def replay_command(run: Any) -> str | None:
    """The run's own replay command when it has one, else ``fracas replay FILE``."""
    own = getattr(run, "replay_command", None)
    if callable(own):
        own = own()
    if isinstance(own, str) and own:
        return own
    path = getattr(run, "replay_path", None)
    if path is None:
        return None
    from fracas.harness.kit.invocation import fracas_command

    return f"{fracas_command()} replay {path}"


def _is_failure(row: Mapping[str, Any]) -> bool:
    t = row.get("test") or {}
    return (t.get("outcome") == "failed" and t.get("final", True)) or not row["ok"]


def index_json(
    rows: Sequence[JSON], session: SessionInfo | None, coverage: Mapping[str, Any]
) -> JSON:
    ordered = sorted(rows, key=lambda r: not _is_failure(r))  # stable: failures first
    return {
        "fracas_index": 1,
        "generated_at": time.time(),
        "session": (session or SessionInfo()).to_json(),
        "totals": {
            "runs": len(rows),
            "orders": sum(int(r["orders"]) for r in rows),
            "violations": sum(int(r["violations"]) for r in rows),
            "pytest_failures": len(
                {
                    r["test"]["test"]
                    for r in rows
                    if r.get("test") and r["test"]["outcome"] == "failed"
                }
            ),
            "failed_runs": sum(1 for r in rows if _is_failure(r)),
        },
        "runs": ordered,
        "coverage": dict(coverage),
    }


def _e(x: Any) -> str:
    return escape("" if x is None else str(x))


def _date(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t if t is not None else time.time()))


def coverage_html(cov: Mapping[str, Any]) -> str:
    """Step × family × phase; each cell the requests a fault hit there. Zero cells are
    shaded, not hidden: what the suite never touched is the point of the table."""
    families, phases = list(cov.get("families") or []), list(cov.get("phases") or [])
    hits: dict[tuple[str, str, str], int] = {}
    states: dict[tuple[str, str, str], dict[str, int]] = {}
    for c in cov.get("cells") or []:
        k = (str(c["step"]), str(c["family"]), str(c["phase"]))
        hits[k] = hits.get(k, 0) + int(c["hits"])
        st = states.setdefault(k, {})
        st[str(c.get("state"))] = st.get(str(c.get("state")), 0) + int(c["hits"])
    head1 = "".join(f'<th colspan="{len(phases)}">{_e(f)}</th>' for f in families)
    head2 = "".join(f"<th>{_e(p.replace('_', ' '))}</th>" for _ in families for p in phases)
    body = []
    for step in cov.get("steps") or []:
        cells = []
        for f in families:
            for p in phases:
                n = hits.get((step, f, p), 0)
                if n:
                    tip = ", ".join(f"{s}: {k}" for s, k in sorted(states[(step, f, p)].items()))
                    cells.append(f'<td class="hit" title="orchestrator state: {_e(tip)}">{n}</td>')
                else:
                    cells.append('<td class="none">0</td>')
        body.append(f"<tr><th>{_e(step)}</th>{''.join(cells)}</tr>")
    touched = sum(1 for n in hits.values() if n)
    total = len(cov.get("steps") or []) * len(families) * len(phases)
    return (
        f'<table id="coverage"><tr><th rowspan="2">step</th>{head1}</tr><tr>{head2}</tr>'
        + "".join(body)
        + f'</table><p class="note">{touched} of {total} cells hit; a shaded 0 is a step, fault '
        "family and phase the suite never exercised. Each number counts requests a fault hit.</p>"
    )


def summary_html(summary: Mapping[str, Any] | None) -> str:
    """The suite's resilience summary: how hard the orchestrator worked, over every run
    (every worker's and shard's alike)."""
    if not summary:
        return ""
    outcomes = ", ".join(f"{k} {v}" for k, v in (summary.get("outcomes") or {}).items())
    items = (
        ("orders", f"{summary.get('orders', 0)} ({_e(outcomes) or 'none'})"),
        ("faults applied", _e(summary.get("faults_applied", 0))),
        ("requests to the fakes per order", _e(summary.get("requests_per_order", 0))),
        ("repeated requests per order", _e(summary.get("retries_per_order", 0))),
        ("orders compensated", _e(summary.get("orders_compensated", 0))),
    )
    return (
        '<h2 id="summary-h">Resilience summary (whole suite)</h2><table id="summary">'
        + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in items)
        + "</table>"
    )


def _test_cell(t: Mapping[str, Any] | None) -> str:
    if not t:
        return '<td class="note">not run by pytest</td>'
    cls = "failed" if t["outcome"] == "failed" and t["final"] else t["outcome"]
    if t["outcome"] == "failed" and not t["final"]:
        cls = "note"
    shown = t.get("message") and t["final"] and not t.get("violation")  # the verdict says it
    msg = f'<div class="note">{_e(t["message"])}</div>' if shown else ""
    return f'<td class="{_e(cls)}">{_e(t["label"])}{msg}</td>'


def index_html(data: Mapping[str, Any], css: str) -> str:
    s, tot = data["session"], data["totals"]
    session_rows = [
        ("orchestrator", f"<code>{_e(s.get('orchestrator') or 'unknown')}</code>"),
        ("seed", _e(s.get("seed"))),
        ("profile", _e(s.get("profile") or "default")),
        ("fault backend", _e(s.get("fault_backend") or "")),
        ("date", _e(_date(s.get("started")))),
    ]
    rows = []
    for r in data["runs"]:
        verdict = (
            '<td class="ok">consistent</td>'
            if r["ok"]
            else f'<td class="ko">{r["violations"]} violation(s): {_e(", ".join(r["rules"]))}</td>'
        )
        if r.get("races"):  # a replay may take the other branch: the run page says why
            verdict = verdict.replace("</td>", ' <b title="a race by nature">(race)</b></td>')
        faults = "<br>".join(_e(f) for f in r["faults"]) or '<span class="note">none</span>'
        dur = "" if r["duration_s"] is None else f"{r['duration_s']:.2f} s"
        replay = f"<code>{_e(r['replay'])}</code>" if r["replay"] else ""
        rows.append(
            f'<tr><td><a href="{_e(r["html"])}">{_e(r["run"])}</a></td>{_test_cell(r["test"])}'
            f"{verdict}<td>{r['orders']}</td><td>{faults}</td><td>{dur}</td><td>{replay}</td>"
            f'<td><a href="{_e(r["json"])}">json</a></td></tr>'
        )
    totals = (
        f'<div class="totals"><span>{tot["runs"]} runs</span><span>{tot["orders"]} orders</span>'
        f'<span class="{"ko" if tot["violations"] else "ok"}">{tot["violations"]} violations</span>'
        f'<span class="{"failed" if tot["pytest_failures"] else "ok"}">'
        f"{tot['pytest_failures']} pytest failures</span></div>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fracas reports</title>'
        f"<style>{css}{INDEX_CSS}</style></head><body><header><h1>fracas reports</h1>{totals}</header>"
        '<main><table id="session">'
        + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in session_rows)
        + '</table><p><a href="#runs-h">runs</a> · <a href="#coverage-h">fault coverage</a></p>'
        '<h2 id="runs-h">Runs (failures first)</h2><table id="runs"><tr><th>run</th><th>pytest</th>'
        "<th>consistency</th><th>orders</th><th>faults</th><th>duration</th><th>replay</th><th></th></tr>"
        + "".join(rows)
        + "</table>"
        + summary_html(data.get("summary"))
        + "<h2 id=\"coverage-h\">Fault coverage (whole suite)</h2>"
        + coverage_html(data["coverage"])
        + "</main></body></html>"
    )
