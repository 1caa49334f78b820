"""The scenario suite against the Temporal example orchestrator
(examples/temporal_orchestrator): the same subset as the DBOS one, at the ci profile."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import example, failures, fracas_run, require_modules
from test_dbos import SUBSET

pytestmark = pytest.mark.slow
FOLDER = example("temporal_orchestrator")


def test_the_ci_suite_passes_against_temporal(tmp_path: Path) -> None:
    require_modules("temporal", "temporalio", binaries=("temporal",))  # the dev server
    code, out = fracas_run(FOLDER, tmp_path, "-k", SUBSET)
    assert code == 0, failures(out)
    assert " 0 violations" in out, out[-2000:]
    assert "test_review_timeout_fails_the_order PASSED" in out  # signals as the test clock
