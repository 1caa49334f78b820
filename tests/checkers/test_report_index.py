"""The report index answers "what happened?" (issue 10.4): session, totals, pytest's
outcome per run, failures first, faults, duration, replay command, the suite-wide fault
coverage table, one colour per meaning, and no files left over from earlier sessions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth_ledger import SynthWorld
from test_checkers_reports import balanced, external_loads
from test_checkers_witness import lost_capture_retried_with_new_key

from fracas.harness.checkers import CheckResult, Snapshot, check
from fracas.harness.model.history import History
from fracas.harness.report.common import PALETTE
from fracas.harness.report.html import CSS, LEGEND
from fracas.harness.report.outcome import SessionInfo, TestOutcome
from fracas.harness.report.writer import write_reports

COMMAND = "python examples/naive_orchestrator.py --bug no-idempotency"


@dataclass
class Run:
    verdict: CheckResult
    snapshot: Snapshot
    history: History
    seed: int = 3
    replay_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def replay_json(self) -> dict[str, Any]:
        return {"seed": self.seed}


def _consistent() -> Run:
    w = SynthWorld()
    w.complete("ord-0001")
    snap = w.snapshot()
    return Run(check(snap), snap, w.history, timings={"reset_total": 0.5, "workload": 1.25})


def _violating(tmp: Path) -> Run:
    w = SynthWorld()
    lost_capture_retried_with_new_key(w)
    snap = w.snapshot()
    return Run(check(snap), snap, w.history, replay_path=tmp / "replays" / "bad.json")


SESSION = SessionInfo(
    orchestrator=COMMAND, seed=3, profile="dev", fault_backend="embedded", started=1796160000.0
)


def _write(tmp: Path) -> tuple[str, dict[str, Any]]:
    runs = [
        ("test_passes", _consistent()),
        ("test_own_assertion", _consistent()),
        ("test_double_charge", _violating(tmp)),
    ]
    outcomes = {
        0: TestOutcome("s.py::test_passes", "passed"),
        1: TestOutcome("s.py::test_own_assertion", "failed", "AssertionError: expected failed"),
        2: TestOutcome("s.py::test_double_charge", "failed", "ConsistencyError", violation=True),
    }
    index = write_reports(tmp / "rep", runs, outcomes=outcomes, session=SESSION)
    return index.read_text(), json.loads((tmp / "rep" / "index.json").read_text())


def _runs_table(html: str) -> list[str]:
    table = html.split('<table id="runs">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", table)[1:]


def test_the_index_names_the_session_and_counts_everything(tmp_path: Path) -> None:
    html, data = _write(tmp_path)
    assert balanced(html) == [] and external_loads(html) == []
    assert COMMAND in html and ">orchestrator<" in html
    assert "2026-" in html and ">dev<" in html and ">3<" in html
    assert data["totals"] == {
        "runs": 3,
        "orders": 4,
        "violations": data["totals"]["violations"],
        "pytest_failures": 2,
        "failed_runs": 2,
    }
    assert data["totals"]["violations"] >= 1
    assert "2 pytest failures" in html and "3 runs" in html and "4 orders" in html


def test_a_failed_test_is_not_consistent_and_failures_come_first(tmp_path: Path) -> None:
    html, data = _write(tmp_path)
    names = [r["run"] for r in data["runs"]]
    assert names == ["test_own_assertion", "test_double_charge", "test_passes"]
    rows = _runs_table(html)
    assert [re.search(r">(test_\w+)</a>", r).group(1) for r in rows] == names  # type: ignore[union-attr]
    own = rows[0]
    assert "failed: assertion" in own and "AssertionError: expected failed" in own
    assert 'class="failed"' in own
    bad = rows[1]
    assert "failed: consistency violation" in bad and "double-charge" in bad
    assert f"fracas replay {tmp_path / 'replays' / 'bad.json'}" in bad
    assert "timeout downstream toxic" in bad  # the run's faults
    assert "1.75 s" in rows[2]  # duration: reset + workload
    # the run's own page says so too
    page = (tmp_path / "rep" / "test_own_assertion.html").read_text()
    assert "but pytest failed the test" in page


def test_the_suite_wide_coverage_table_shows_hit_and_untouched_cells(tmp_path: Path) -> None:
    html, data = _write(tmp_path)
    cov = data["coverage"]
    assert cov["phases"] == ["before_commit", "after_commit"]
    assert {"http", "network", "process"} <= set(cov["families"])
    assert "capture" in cov["steps"] and "notify" in cov["steps"]
    hits = {(c["step"], c["family"], c["phase"]): c["hits"] for c in cov["cells"]}
    assert hits == {("capture", "http", "after_commit"): 1}
    table = html.split('<table id="coverage">', 1)[1].split("</table>", 1)[0]
    cells = len(cov["steps"]) * len(cov["families"]) * len(cov["phases"])
    assert table.count('class="hit"') == 1
    assert table.count('<td class="none">0</td>') == cells - 1  # untouched cells stay visible
    assert f"1 of {cells} cells hit" in html


def test_colours_never_share_a_meaning() -> None:
    assert len(set(PALETTE.values())) == len(PALETTE)
    legend = [PALETTE[k] for _, k in LEGEND]
    assert len(set(legend)) == len(legend)

    def fill(selector: str) -> str:
        m = re.search(re.escape(selector) + r"\{[^}]*?fill:(#[0-9a-fA-F]{6})", CSS)
        assert m, selector
        return m.group(1)

    assert fill(".bad") != fill(".t5")  # a violating order is not a 5xx
    assert fill(".bad") == PALETTE["violation"] and fill(".t5") == PALETTE["5xx"]
    assert PALETTE["5xx"] not in re.search(r"\.viol\{[^}]*\}", CSS).group(0)  # type: ignore[union-attr]


def test_old_per_run_files_do_not_linger(tmp_path: Path) -> None:
    rep = tmp_path / "rep"
    write_reports(rep, [("test_gone", _consistent()), ("test_kept", _consistent())])
    (rep / "test_gone.png").write_bytes(b"png")
    (rep / "notes.txt").write_text("mine")
    (rep / "other.json").write_text('{"not": "a report"}')
    # a report from before the index kept a list (no index.json entry)
    legacy = json.loads((rep / "test_gone.json").read_text())
    (rep / "legacy.json").write_text(json.dumps(legacy))
    (rep / "legacy.html").write_text("<html></html>")
    write_reports(rep, [("test_kept", _consistent())])
    left = sorted(p.name for p in rep.iterdir() if p.is_file())
    assert left == [
        "index.html",
        "index.json",
        "notes.txt",
        "other.json",
        "test_kept.html",
        "test_kept.json",
    ]
    assert "test_gone" not in (rep / "index.html").read_text()
