"""The scenario suite: chaos runs against the orchestrator under test.

Run it with ``fracas run`` (or ``pytest scenarios``). Each scenario takes the ``fracas``
fixture from the fracas pytest plugin; see README.md for how to write one.

Property scenarios run under a Hypothesis profile: ``ci`` (the default, a few
derandomized examples), ``dev`` or ``soak``; choose with ``--hypothesis-profile`` or
FRACAS_PROFILE.
"""

import os

import pytest
from hypothesis import settings

import harness.profiles  # noqa: F401 - registers the ci, dev and soak profiles


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile(os.environ.get("FRACAS_PROFILE", "ci"))
