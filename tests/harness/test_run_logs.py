"""Logs belong to a run (issue 18.3): an orchestrator that fails to start shows its own
lines, at most 20, never an earlier session's in the same report folder, and pytest's
summary counts the failure as an error."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]


def failing_start(report: Path, word: str, lines: int, code: int) -> str:
    script = f"import sys; [print('{word}', i) for i in range({lines})]; sys.exit({code})"
    done = subprocess.run(
        [*FRACAS, "run", "--orchestrator", f'python -c "{script}"',
         "-k", "test_lost_answer_after_commit", "--report", str(report)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-2000:]
    return done.stdout


def test_a_failed_start_shows_only_its_own_lines_and_counts_as_an_error(tmp_path: Path) -> None:
    report = tmp_path / "report"
    failing_start(report, "earlier", 30, 3)
    out = failing_start(report, "mine", 25, 4)
    assert "earlier" not in out, out[-3000:]
    # pytest's short summary (on since fracas run passes pytest's own -r defaults through)
    # repeats the error's message; the error itself shows the tail once
    errors = out.split("short test summary info", 1)[0]
    shown = re.findall(r"^mine (\d+)$", errors, flags=re.M)
    assert shown == [str(i) for i in range(5, 25)], out[-3000:]  # the last 20, once
    assert re.search(r"=+ .*\b1 error\b.* =+$", out, flags=re.M), out[-1000:]
    logs = sorted(p.name for p in (report / "run" / "logs").glob("orchestrator*.log"))
    assert logs == ["orchestrator-1.log"]
    assert "earlier" not in (report / "run" / "logs" / "orchestrator-1.log").read_text()
