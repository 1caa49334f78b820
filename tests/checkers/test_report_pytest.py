"""pytest's verdict reaches the report, and a scenario's own failed assertion on a status
names the order and its witness (issue 10.4, 10.5). One real pytest session in a
subprocess, against the bundled orchestrator: the plugin's hooks are what is tested."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Consistent without faults; double-charges when a capture's answer is lost.
NAIVE = f"{sys.executable} {ROOT / 'examples' / 'naive_orchestrator.py'} --bug no-idempotency"

SCENARIO = """
def test_own_assertion_fails(fracas):
    result = fracas.run(fracas.orders(1), settle_seconds=20)
    result.assert_consistent()
    oid = next(iter(result.statuses))
    assert result.statuses[oid] == "failed"


def test_set_form_fails(fracas):
    result = fracas.run(fracas.orders(1), settle_seconds=20)
    assert set(result.statuses.values()) == {"failed"}


def test_passes(fracas):
    fracas.run(fracas.orders(1), settle_seconds=20).assert_consistent()


def test_own_check_on_a_violating_run(fracas):
    params = {"path": "/payments", "method": "POST", "phase": "after_commit", "times": 1}
    drop = {"fault": {"kind": "drop", "target": "payment", "params": params}, "at": 0}
    result = fracas.run(fracas.orders(1), [drop], settle_seconds=20)
    assert result.fired("drop", "payment") == 0


def test_earlier_tests_runs_are_filed(fracas):
    from fracas.harness.report.writer import Filed

    earlier = list(fracas.results)
    assert len(earlier) == 4 and all(isinstance(r, Filed) for _, r in earlier)
    assert all(r.row is not None for _, r in earlier) and earlier[-1][1].cells  # row, coverage
    assert [r.ok for _, r in earlier] == [True, True, True, False]
    fracas.run(fracas.orders(1), settle_seconds=20).assert_consistent()
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, object], Path]:
    base = tmp_path_factory.mktemp("pytest-outcome")
    (base / "test_s.py").write_text(SCENARIO)
    rep = base / "rep"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "test_s.py",
            "--fracas-report",
            str(rep),
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(base),
            "--orchestrator",
            NAIVE,
        ],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, json.loads((rep / "index.json").read_text()), rep


def test_a_run_is_filed_when_its_test_ends_and_reported_whole(
    session: tuple[str, dict[str, object], Path],
) -> None:
    """A run whose test ended keeps only its row in the session (a soak's harness grew
    by every run's history); its files are written then, and the index lists it."""
    stdout, data, rep = session
    runs = {r["run"]: r for r in data["runs"]}  # type: ignore[attr-defined]
    assert runs["test_earlier_tests_runs_are_filed"]["test"]["outcome"] == "passed"
    assert len(runs) == 5 and all((rep / r["json"]).is_file() for r in runs.values())
    assert "5 runs, 5 orders, 2 violations" in stdout


def test_a_failed_scenario_assertion_is_shown_failed_not_consistent(
    session: tuple[str, dict[str, object], Path],
) -> None:
    _, data, rep = session
    runs = {r["run"]: r for r in data["runs"]}  # type: ignore[attr-defined]
    own = runs["test_own_assertion_fails"]
    assert own["ok"] is True  # consistent ...
    assert own["test"]["outcome"] == "failed" and not own["test"]["violation"]  # ... test failed
    assert own["test"]["label"] == "failed: assertion"
    assert runs["test_passes"]["test"]["outcome"] == "passed"
    assert data["totals"]["pytest_failures"] == 3  # type: ignore[index]
    assert [r["run"] for r in data["runs"]][-2:] == [  # type: ignore[attr-defined]
        "test_passes", "test_earlier_tests_runs_are_filed",
    ]
    assert "naive_orchestrator.py --bug no-idempotency" in data["session"]["orchestrator"]  # type: ignore[index]
    html = (rep / "index.html").read_text()
    row = html.split(">test_own_assertion_fails</a>", 1)[1].split("</tr>", 1)[0]
    assert "failed: assertion" in row


def test_a_failed_status_assertion_names_the_order_and_its_witness(
    session: tuple[str, dict[str, object], Path],
) -> None:
    out, _, _ = session
    assert "order ord-0001 reported 'completed': Payment pay-" in out, out[-4000:]
    assert "it reported the order completed" in out
    # both forms, the README's set form included
    assert out.count("order ord-0001 reported 'completed'") >= 2, out[-4000:]


def test_any_failed_own_check_on_a_violating_run_carries_the_witness(
    session: tuple[str, dict[str, object], Path],
) -> None:
    out, _, _ = session
    section = out.split("fracas witness", 1)[1]
    assert "double-charge" in section and "ord-0001" in section, out[-4000:]
    assert "lost to fault rule" in section
