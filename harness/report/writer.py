"""Writing a session's reports: per run a JSON and an HTML file, one part describing
them, and the index built from the part (``parts.build_index``, the only way an index is
made).

``write_part`` is what every writer calls (a session, an xdist worker, a shard);
``write_reports`` is a part and its index at once, for a session that is the whole
suite. Typed against a small protocol rather than the runner's class so the report
package does not depend on the runtime.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fracas.harness.checkers.engine import CheckResult
from fracas.harness.checkers.summary import summarize
from fracas.harness.checkers.view import View
from fracas.harness.kit.names import first_free, stem_of
from fracas.harness.model.coverage import CoverageMap
from fracas.harness.model.history import History
from fracas.harness.model.snapshot import Snapshot
from fracas.harness.report.html import render_html, write_html
from fracas.harness.report.index import replay_command, run_row
from fracas.harness.report.json_report import build_report, write_json
from fracas.harness.report.outcome import SessionInfo, TestOutcome
from fracas.harness.report.parts import PARTS, build_index


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
    races = run.history.races()
    if races:
        meta["races"] = races  # a replay may take the other branch (history.races)
    return meta


def write_run(
    directory: Path, name: str, run: RunLike, *, outcome: TestOutcome | None = None,
    summary: Mapping[str, Any] | None = None,
) -> tuple[Path, Path]:  # fmt: skip
    """``<name>.json`` (verdict, summary, replay, full snapshot) and ``<name>.html``.
    ``summary``: the run's resilience summary when its caller has it already."""
    view = View(run.snapshot)
    summary = summary if summary is not None else summarize(view)
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


def suite_numbers(summary: Mapping[str, Any], faults: int) -> dict[str, Any]:
    """The part of a run's resilience summary that adds up over a suite."""
    req = summary.get("requests") or {}
    comp = summary.get("compensations") or {}
    return {
        "orders": int(summary.get("orders") or 0),
        "outcomes": dict(summary.get("outcomes") or {}),
        "faults": faults,
        "requests": int(req.get("total") or 0),
        "per_order_mean": float(req.get("per_order_mean") or 0.0),
        "retries_per_order_mean": float(req.get("retries_per_order_mean") or 0.0),
        "orders_compensated": int(comp.get("orders_compensated") or 0),
    }


@dataclass
class Filed:
    """A run whose files are written already: what its session's part, index and
    terminal table still need of it, without its history and ledgers. A soak's harness
    that kept every run whole grew by its runs' histories (1.3 MB a run of 25 orders);
    filed when its test ends, a run costs its row."""

    ok: bool
    violations: int
    #: its row in the part (None: the session writes no report)
    row: dict[str, Any] | None
    cells: collections.Counter[Any] = field(default_factory=collections.Counter)
    #: anything else its keeper wants kept (the plugin's terminal-table row)
    extra: dict[str, Any] = field(default_factory=dict)


def file_run(
    directory: Path | None,
    stem: str,
    run: RunLike,
    *,
    outcome: TestOutcome | None = None,
    position: tuple[int, int] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Filed:
    """Write one run's files (when there is a ``directory``) and keep only its row."""
    row = None
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        row = _row(directory, stem, run, outcome, position)
    cells = CoverageMap().add(run)  # type: ignore[arg-type]
    return Filed(bool(run.verdict.ok), len(run.verdict.violations), row, cells, dict(extra or {}))


def _row(
    directory: Path, stem: str, run: RunLike, outcome: TestOutcome | None,
    position: tuple[int, int] | None,
) -> dict[str, Any]:  # fmt: skip
    # (a RunResult computes its summary once; the report and the row share it)
    summary = getattr(run, "summary", None) or summarize(run.snapshot)
    j, h = write_run(directory, stem, run, outcome=outcome, summary=summary)
    row = run_row(stem, run, outcome, h.name, j.name)
    nemesis = getattr(run, "nemesis", None)
    applied = len(getattr(nemesis, "applied", ()) or ())
    row["summary"] = suite_numbers(summary, applied)
    row["position"] = list(position or (1 << 30, 0))
    return row


def write_part(
    directory: Path,
    part_id: str,
    results: Sequence[tuple[str, RunLike | Filed]],
    *,
    outcomes: Mapping[int, TestOutcome] | None = None,
    session: SessionInfo | None = None,
    positions: Mapping[int, tuple[int, int]] | None = None,
) -> Path:
    """Write each run's files and ``parts/<part_id>.json``. ``positions``: by index in
    ``results``, (the test's place in the whole collection, the run's place in its test).
    A ``Filed`` run's files are written already: its row is taken as it is."""
    directory.mkdir(parents=True, exist_ok=True)
    outcomes = outcomes or {}
    positions = positions or {}
    rows: list[dict[str, Any]] = []
    used: set[str] = set()
    coverage_map = CoverageMap()
    for i, (name, run) in enumerate(results):
        stem = first_free(stem_of(name), used)  # the handle's names are unique; others' not
        used.add(stem)
        if isinstance(run, Filed):
            coverage_map.add_cells(run.cells)
            if run.row is not None:
                rows.append(run.row)
            continue
        rows.append(_row(directory, stem, run, outcomes.get(i), positions.get(i, (1 << 30, i))))
        coverage_map.add(run)  # type: ignore[arg-type]
    coverage = coverage_map.to_json()
    live = [r for _, r in results if not isinstance(r, Filed)]
    if session is None and live:  # not from pytest (fracas replay): what the runs recorded
        first = _meta(live[0])
        session = SessionInfo(
            orchestrator=str(first.get("orchestrator") or ""), seed=first.get("seed")
        )
    part = {
        "fracas_part": 1,
        "part": part_id,
        "session": (session or SessionInfo()).to_json(),
        "runs": rows,
        "coverage": coverage,
    }
    path = directory / PARTS / f"{stem_of(part_id)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(part, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)  # whole or not at all: a merge never reads half a part
    return path


def write_reports(
    directory: Path,
    results: Sequence[tuple[str, RunLike | Filed]],
    *,
    outcomes: Mapping[int, TestOutcome] | None = None,
    session: SessionInfo | None = None,
    part_id: str = "session",
    positions: Mapping[int, tuple[int, int]] | None = None,
) -> Path:
    """Every run's reports, their part, and ``index.html``/``index.json`` built from it
    (relative links only); the index path. ``outcomes``: pytest's verdict per run, by
    position in ``results``. Parts and per-run files left by an earlier session are
    removed, so the folder shows this session only."""
    part = write_part(
        directory, part_id, results, outcomes=outcomes, session=session, positions=positions
    )
    return build_index(directory, [part])
