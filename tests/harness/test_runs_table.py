"""Numbers add up (issue 18.5): each column of the terminal's runs table is the journal's
count and the run page's, and a test pytest failed never reads "consistent"."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = '''
LOST = [{"fault": {"kind": "drop", "target": "payment",
                   "params": {"path": "/payments", "method": "POST", "phase": "after_commit",
                              "times": 1, "order_id": "ord-0002"}}, "at": 0}]
NEVER = [{"fault": {"kind": "drop", "target": "payment",
                    "params": {"path": "/payments", "method": "POST", "order_id": "ord-0099"}},
          "at": 0}]

def test_lost_capture(fracas):
    fracas.run(fracas.orders(3), LOST)   # retried without a key: a second POST /payments

def test_vacuous(fracas):
    fracas.run(fracas.orders(1), NEVER).assert_consistent()   # the fault hits nothing
'''
ORCH = "python examples/naive_orchestrator.py --bug no-idempotency"


def test_the_runs_table_matches_the_journal_and_the_run_page(tmp_path: Path) -> None:
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "naive_orchestrator.py", tmp_path / "examples")
    (tmp_path / "test_numbers.py").write_text(SCENARIO)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_numbers.py", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "--orchestrator", ORCH,
         "--fracas-report", str(tmp_path / "report")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    rows = {m[-1]: m for m in re.findall(
        r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+(.+?)\s{2,}(\S+)$",
        out, flags=re.M)}  # fmt: skip
    assert set(rows) == {"test_lost_capture", "test_vacuous"}, out[-3000:]
    # a consistent run whose test failed reads as failed
    assert rows["test_vacuous"][7] == "FAILED (test)", rows["test_vacuous"]

    lost = rows["test_lost_capture"]
    page = json.loads((tmp_path / "report" / "test_lost_capture.json").read_text())
    journal = [e for entries in page["snapshot"]["history"]["journals"].values() for e in entries]
    orders = sorted(page["snapshot"]["orders"])
    per_order = Counter(e["order_id"] for e in journal if e["order_id"] in orders)
    repeats = Counter((e["order_id"], e["method"], e["path"]) for e in journal
                      if e["order_id"] in orders and e["method"] == "POST")  # fmt: skip
    assert repeats[("ord-0002", "POST", "/payments")] == 2  # the retry, in the journal
    summary = page["summary"]
    outcomes = Counter(r.get("status") for r in page["snapshot"]["reported"].values())
    assert int(lost[0]) == len(orders) == summary["orders"]
    assert int(lost[1]) == outcomes["completed"] == summary["outcomes"].get("completed", 0)
    assert int(lost[2]) == summary["outcomes"].get("failed", 0)
    assert int(lost[3]) == summary["outcomes"].get("needs_attention", 0)
    assert float(lost[5]) == round(sum(per_order.values()) / len(orders), 2)
    assert float(lost[5]) == round(summary["requests"]["per_order_mean"], 2)
    retries = float(lost[6])
    assert retries >= round(1 / len(orders), 2), lost  # at least the second capture
    assert retries == round(summary["requests"]["retries_per_order_mean"], 2)
    html = (tmp_path / "report" / "test_lost_capture.html").read_text()
    assert f"<td>retries_per_order_mean</td><td>{summary['requests']['retries_per_order_mean']}" \
        in html
