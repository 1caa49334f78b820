"""fracas as a pytest plugin (entry point ``pytest11``; the root conftest loads it too).

Fixtures, markers and options are added here as the harness grows.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fracas: a chaos scenario run against the topology")
