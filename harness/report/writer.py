"""Writing a session's reports: per run a JSON and an HTML file, plus an index page.

Called by the pytest plugin at session end with ``[(test name, RunResult), ...]``. Typed
against a small protocol rather than the runner's class so the report package does not
depend on the runtime.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any, Protocol

from harness.checkers.engine import CheckResult
from harness.checkers.snapshot import Snapshot
from harness.checkers.summary import summarize
from harness.checkers.view import View
from harness.history import History
from harness.report.html import CSS, render_html, write_html
from harness.report.json_report import build_report, write_json


class RunLike(Protocol):
    """What a report needs from a run (``harness.runner.RunResult`` satisfies it)."""

    @property
    def verdict(self) -> CheckResult: ...

    @property
    def snapshot(self) -> Snapshot: ...

    @property
    def history(self) -> History: ...

    def replay_json(self) -> dict[str, Any]: ...


def _meta(run: RunLike) -> dict[str, Any]:
    meta: dict[str, Any] = dict(run.history.meta)
    for attr in ("seed", "orchestrator", "timings"):
        val = getattr(run, attr, None)
        if val is not None:
            meta[attr] = val
    return meta


def write_run(directory: Path, name: str, run: RunLike) -> tuple[Path, Path]:
    """``<name>.json`` (verdict, summary, replay, full snapshot) and ``<name>.html``."""
    view = View(run.snapshot)
    summary = summarize(view)
    meta = _meta(run)
    report = build_report(
        run.verdict,
        run.snapshot,
        summary=summary,
        replay=run.replay_json(),
        meta=meta,
        include_snapshot=True,
    )
    j = write_json(directory / f"{name}.json", report)
    h = write_html(
        directory / f"{name}.html",
        render_html(run.verdict, view, title=name, summary=summary, meta=meta),
    )
    return j, h


def write_reports(directory: Path, results: Sequence[tuple[str, RunLike]]) -> Path:
    """Write every run's reports and an ``index.html`` linking them (relative links only)."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    used: dict[str, int] = {}
    for name, run in results:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "run"
        used[base] = used.get(base, 0) + 1
        stem = base if used[base] == 1 else f"{base}-{used[base]}"
        j, h = write_run(directory, stem, run)
        v = run.verdict
        verdict = "consistent" if v.ok else f"{len(v.violations)} violation(s)"
        rows.append(
            f'<tr><td><a href="{escape(h.name)}">{escape(stem)}</a></td><td class="{"ok" if v.ok else "ko"}">'
            f'{escape(verdict)}</td><td>{v.orders}</td><td><a href="{escape(j.name)}">json</a></td></tr>'
        )
    index = directory / "index.html"
    index.write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fracas reports</title>'
        f"<style>{CSS}.ok{{color:#22863a}}.ko{{color:#b31d28}}</style></head><body><header><h1>fracas reports</h1>"
        f"</header><main><table><tr><th>run</th><th>verdict</th><th>orders</th><th></th></tr>{''.join(rows)}"
        f"</table></main></body></html>",
        encoding="utf-8",
    )
    return index
