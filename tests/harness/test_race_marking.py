"""A failing run whose faults include a race by nature (a decision racing the review
timeout, issue 22) is reported with its witness and marked as a race: in the terminal's
runs table, the pytest failure text, the run's JSON (``meta.races``) and HTML page and
the index. ``fracas replay`` of it says up front that the verdict may differ, and when it
does not reproduce, blames the race rather than timing fracas failed to recreate.

The run is real: the naive orchestrator with its planted ``review-twice`` defect breaks
ord-0001 under a flipped decision (deterministic), while ord-0002's approve races its
review timeout. The race waits for ord-0001's capture: its clock jump times out every
review still open, and sent at the start it beat ord-0001's first decision now and
then, which then never took. Replayed against the bundled orchestrator, the same case is consistent:
the "did not reproduce" outcome a race may give.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from harness_helpers import NAIVE, ROOT

from fracas.harness.run.replay import load_replay, parse_replay, tally_text
from fracas.harness.search.planted import NAIVE_CLOCK

FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]
ORCH = shlex.join([sys.executable, str(NAIVE), "--bug", "review-twice"])
RACE = "review_race on ord-0002"
SCENARIO = '''
FLIP_AND_RACE = [
    {"fault": {"kind": "review_flip", "target": "orchestrator",
               "params": {"order_id": "ord-0001", "decision": "approve", "after_done": True}},
     "at": 0},
    {"fault": {"kind": "review_race", "target": "orchestrator",
               "params": {"order_id": "ord-0002", "decision": "approve"}},
     "when": {"service": "payment", "path": "/payments", "order_id": "ord-0001",
              "phase": "after_commit"}},
]

def test_raced(fracas):
    orders = fracas.orders(2, intents=["review_approve", "review_timeout"])
    fracas.run(orders, FLIP_AND_RACE, settle_seconds=20).assert_consistent()
'''


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FRACAS, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def raced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The scenario run by ``fracas run`` against the naive orchestrator: its report
    folder and what the terminal showed."""
    tmp = tmp_path_factory.mktemp("raced")
    (tmp / "test_raced.py").write_text(SCENARIO)
    done = cli(tmp, "run", "test_raced.py", "--report", str(tmp / "report"),
               "--orchestrator", ORCH, "--orchestrator-clock", NAIVE_CLOCK)  # fmt: skip
    assert done.returncode == 1, done.stdout[-4000:] + done.stderr[-2000:]
    return tmp / "report", done.stdout


def test_the_terminal_marks_the_failing_run_as_a_race(raced: tuple[Path, str]) -> None:
    _, out = raced
    assert re.search(r"VIOLATIONS? \(race\)\s+test_raced\s*$", out, flags=re.M), out[-3000:]
    assert "(race): the run's faults include a race by nature" in out  # the legend
    # the failure text: the race named ahead of the witness, which still tells the story
    flat = " ".join(out.split())
    assert f"RACE: this run's faults include a race by nature: {RACE}" in flat, out[-4000:]
    # pytest's "E" margins fall wherever the witness wraps, and the fault's id may be named
    words = " ".join(w for w in out.split() if w != "E")
    assert re.search(r"review_flip (\(\S+\) )?sent reject", words), out[-4000:]
    assert "input-answers" in flat, out[-4000:]


def test_the_run_page_and_the_index_mark_it(raced: tuple[Path, str]) -> None:
    report, _ = raced
    page = json.loads((report / "test_raced.json").read_text())
    assert page["ok"] is False
    assert page["meta"]["races"] == [f"{RACE} (racing the review timeout)"]
    html = (report / "test_raced.html").read_text()
    assert '<span class="race">race</span>' in html and "A race by nature:" in html
    assert RACE in html
    index = json.loads((report / "index.json").read_text())
    assert [r["races"] for r in index["runs"]] == [[f"{RACE} (racing the review timeout)"]]
    assert "(race)" in (report / "index.html").read_text()


def test_a_replay_that_takes_the_other_branch_blames_the_race(
    raced: tuple[Path, str], tmp_path: Path
) -> None:
    report, _ = raced
    replay = report / "replays" / "test_raced.json"
    assert load_replay(replay).races == [RACE]
    done = cli(tmp_path, "replay", str(replay), "--orchestrator", "bundled",
               "--report", str(tmp_path / "again"))  # fmt: skip
    out = " ".join(done.stdout.split())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"note: a race by nature ({RACE}): either branch may win" in out
    assert "run 1/1: did not reproduce" in out
    assert f"its faults include a race by nature ({RACE})" in out
    assert "not fracas failing to recreate the run" in out
    assert "depends on timing" not in out


def test_without_the_race_a_replay_that_differs_still_blames_timing(
    raced: tuple[Path, str]
) -> None:
    report, _ = raced
    data = json.loads((report / "replays" / "test_raced.json").read_text())
    data["schedule"]["faults"] = [
        f for f in data["schedule"]["faults"] if f["fault"]["kind"] != "review_race"
    ]
    replay = parse_replay(data)
    assert replay.races == []
    text = tally_text(replay, ["reproduced", "did not reproduce"])
    assert "depends on timing" in text and "race" not in text


def test_bench_client_faults_counts_what_the_report_holds(raced: tuple[Path, str]) -> None:
    """bench/client_faults.py, which docs/benchmarks.md's soak figures come from, on
    this report: two client faults drawn, the race marked, every answer whole."""
    report, _ = raced
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "client_faults.py"), str(report)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "runs 1, violations" in out
    assert "client faults drawn 2 of 2 faults, in 1 runs; runs marked as races 1" in out, out
    assert re.search(r"^  review_flip\s+1$", out, flags=re.M) and re.search(
        r"^  review_race\s+1$", out, flags=re.M), out  # fmt: skip
    sent = re.search(r"inputs sent (\d+); .* whole in the history \(status and body\) (\d+)", out)
    assert sent and int(sent[1]) >= 2 and sent[1] == sent[2], out
