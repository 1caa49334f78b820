"""Writing a session's reports: per run a JSON and an HTML file, plus an index page.

Called by the pytest plugin at session end with ``[(test name, RunResult), ...]``. Typed
against a small protocol rather than the runner's class so the report package does not
depend on the runtime.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from fracas.harness.checkers.engine import CheckResult
from fracas.harness.checkers.snapshot import Snapshot
from fracas.harness.checkers.summary import summarize
from fracas.harness.checkers.view import View
from fracas.harness.report.html import CSS, render_html, write_html
from fracas.harness.report.index import index_html, index_json, replay_command, run_row
from fracas.harness.report.json_report import build_report, write_json
from fracas.harness.report.outcome import SessionInfo, TestOutcome
from fracas.harness.run.coverage import CoverageMap
from fracas.harness.run.history import History


class RunLike(Protocol):
    """What a report needs from a run (``fracas.harness.run.runner.RunResult`` satisfies it)."""

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
        if val is not None and not (attr == "orchestrator" and meta.get(attr)):
            meta[attr] = val  # the history's orchestrator is its command: keep it
    return meta


def write_run(
    directory: Path, name: str, run: RunLike, *, outcome: TestOutcome | None = None
) -> tuple[Path, Path]:
    """``<name>.json`` (verdict, summary, replay, full snapshot) and ``<name>.html``."""
    view = View(run.snapshot)
    summary = summarize(view)
    meta = _meta(run)
    if outcome is not None:
        meta["pytest"] = outcome.label() + (f" ({outcome.message})" if outcome.message else "")
    command = replay_command(run)
    if command:
        meta["replay"] = command
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


def _stale(directory: Path) -> set[Path]:
    """Per-run files an earlier session wrote here: those the last ``index.json`` lists,
    and any JSON report (``fracas_report`` key) with its HTML and screenshot, for folders
    written before the index kept a list. Nothing else is touched."""
    out: set[Path] = set()
    try:
        old = json.loads((directory / "index.json").read_text())
        for r in old.get("runs") or []:
            out |= {directory / Path(str(r[k])).name for k in ("html", "json") if r.get(k)}
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    for j in directory.glob("*.json"):
        if j.name == "index.json":
            continue
        try:
            with j.open() as fh:
                head = fh.read(64)
        except OSError:
            continue
        if '"fracas_report"' in head:
            out |= {j, j.with_suffix(".html"), j.with_suffix(".png")}
    return {p for p in out if p.is_file()}


def stem_of(name: str) -> str:
    """A run's name as a file name: what the report, the replay file and the table share."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "run"


def write_reports(
    directory: Path,
    results: Sequence[tuple[str, RunLike]],
    *,
    outcomes: Mapping[int, TestOutcome] | None = None,
    session: SessionInfo | None = None,
) -> Path:
    """Write every run's reports, ``index.html`` and ``index.json`` (relative links only).
    ``outcomes``: pytest's verdict per run, by position in ``results``. Per-run files left
    by an earlier session are removed, so the folder shows this session only."""
    directory.mkdir(parents=True, exist_ok=True)
    stale = _stale(directory)
    outcomes = outcomes or {}
    rows = []
    used: dict[str, int] = {}
    written: set[Path] = set()
    for i, (name, run) in enumerate(results):
        base = stem_of(name)
        used[base] = used.get(base, 0) + 1
        stem = base if used[base] == 1 else f"{base}-{used[base]}"
        outcome = outcomes.get(i)
        j, h = write_run(directory, stem, run, outcome=outcome)
        written |= {j, h}
        rows.append(run_row(stem, run, outcome, h.name, j.name))
    for p in stale - written:
        p.unlink(missing_ok=True)
    coverage = CoverageMap.from_results([r for _, r in results]).to_json()  # type: ignore[misc]
    if session is None and results:  # not from pytest (fracas replay): what the runs recorded
        first = _meta(results[0][1])
        session = SessionInfo(
            orchestrator=str(first.get("orchestrator") or ""), seed=first.get("seed")
        )
    data = index_json(rows, session, coverage)
    write_json(directory / "index.json", data)
    index = directory / "index.html"
    index.write_text(index_html(data, CSS), encoding="utf-8")
    return index
