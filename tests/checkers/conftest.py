"""Fixtures for the checker tests."""

from __future__ import annotations

import pytest
from synth_ledger import SynthWorld


@pytest.fixture
def world() -> SynthWorld:
    return SynthWorld()
