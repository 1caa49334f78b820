"""Fixtures for the checker tests."""

from __future__ import annotations

import pytest

from harness.checkers.synth import World


@pytest.fixture
def world() -> World:
    return World()
