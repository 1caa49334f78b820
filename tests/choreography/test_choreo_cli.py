"""``fracas run`` from the example's folder tests the choreography its pyproject.toml
declares, with nothing else given: the baseline scenario passes, the review-timeout one
is skipped for want of a clock, and the report names the system under test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from choreo_helpers import EXAMPLE


def test_fracas_run_from_the_example_folder_tests_the_choreography(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fracas.harness.front.cli", "run", "--report", str(tmp_path),
         "-k", "test_every_path_without_faults or review_timeout", "-p", "no:cacheprovider"],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed, 1 skipped" in done.stdout
    report = json.loads((tmp_path / "test_every_path_without_faults.json").read_text())
    assert "choreography of orders, customer, payment" in json.dumps(report)
