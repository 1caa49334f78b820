"""Each chaos example starts real processes, so the profiles leave out what would run many
of them for little: Hypothesis's explain phase everywhere, and target() climbing where the
budget is too small for it to pay."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import Phase, settings

from fracas.harness.search.profiles import register_profiles


def test_no_profile_explains_and_only_soak_climbs_targets() -> None:
    register_profiles()
    for name in ("ci", "dev", "soak"):
        phases = settings.get_profile(name).phases
        assert Phase.explain not in phases, name
        assert Phase.generate in phases and Phase.shrink in phases, name
    assert Phase.target not in settings.get_profile("dev").phases
    assert Phase.target in settings.get_profile("soak").phases


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "2.5"])
def test_a_bad_example_count_says_what_was_expected(raw: str) -> None:
    code = "import fracas.harness.search.profiles"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "FRACAS_DEV_EXAMPLES": raw}, timeout=60)
    assert done.returncode != 0
    assert "FRACAS_DEV_EXAMPLES" in done.stderr and "whole number of examples" in done.stderr
