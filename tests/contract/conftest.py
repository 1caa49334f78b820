"""The worked example reuses the checker tests' synthetic run for the built-in five."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checkers"))

from synth_ledger import SynthWorld  # noqa: E402


@pytest.fixture
def synth() -> SynthWorld:
    return SynthWorld()
