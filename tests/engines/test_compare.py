"""bench/compare.py reads the resilience table back from fracas reports (no engine needed)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import ROOT


def _compare() -> Any:
    spec = importlib.util.spec_from_file_location("bench_compare", ROOT / "bench/compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(path: Path, orders: int, completed: int, retries: float, p50: float, p95: float,
         violations: list[str]) -> None:
    path.write_text(json.dumps({
        "verdict": {"violations": [{"rule": r} for r in violations]},
        "summary": {"orders": orders, "outcomes": {"completed": completed},
                    "requests": {"retries_per_order_mean": retries},
                    "time_to_settle_s": {"n": orders, "p50": p50, "p95": p95}},
    }))


def test_the_table_adds_up_the_runs(tmp_path: Path) -> None:
    _run(tmp_path / "a.json", 10, 10, 0.0, 1.0, 2.0, [])
    _run(tmp_path / "b.json", 30, 24, 2.0, 3.0, 9.0, ["completed-ledger", "completed-ledger"])
    (tmp_path / "index.json").write_text(json.dumps({"runs": [
        {"json": "a.json", "faults": []},
        {"json": "b.json", "faults": ["a pause on shipping"]},
    ]}))
    (tmp_path / "fracas-run.log").write_text(
        "...\n===== 51 passed, 2 failed, 1 skipped in 300.12s (0:05:00) =====\n")
    compare = _compare()
    row = {**compare.read_reports(tmp_path), "counts": compare.pytest_counts(tmp_path)}
    assert row["counts"] == {"passed": 51, "failed": 2, "skipped": 1}
    assert row["rules"] == {"completed-ledger": 2}
    assert row["completion"] == 24 / 30  # only the run with a fault counts
    assert row["retries"] == (0 * 10 + 2.0 * 30) / 40  # per order, not per run
    assert row["settle_p50"] == 3.0 and row["settle_tail"] == 9.0  # 30 of 40 orders: 3 s
    text = compare.table({"dbos": row}, {"temporal": "pip install -e '.[temporal]'"})
    assert "| dbos | 51 / 2 / 1 | 2 × `completed-ledger` | 80.0% of 30 | 1.50 |" in text
    assert "| temporal | not run: pip install" in text


def test_a_bad_report_argument_names_what_was_expected(capsys: Any) -> None:
    compare = _compare()
    with pytest.raises(SystemExit) as exc:
        compare.main(["nginx=/tmp"])
    assert exc.value.code == 2
    assert "expected NAME=DIR with NAME one of bundled, dbos, temporal" in capsys.readouterr().err
