"""The scenario suite: chaos runs against the orchestrator under test.

Run it with ``fracas run`` (or ``pytest scenarios``). Each scenario takes the ``fracas``
fixture from the fracas pytest plugin; see README.md for how to write one.

Property scenarios run under a Hypothesis profile: ``ci`` (the default, a few
derandomized examples), ``dev`` or ``soak``; choose with ``--hypothesis-profile`` or
FRACAS_PROFILE (which ``fracas run`` reads the same way, as its ``--profile`` default).
"""

import os

import pytest
from hypothesis import settings

from fracas.harness.search import profiles as _profiles  # noqa: F401 - registers the ci, dev and soak profiles


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("hypothesis_profile", None):
        profile = os.environ.get("FRACAS_PROFILE", "").strip() or "ci"
        if profile not in ("ci", "dev", "soak"):
            raise pytest.UsageError(
                f"FRACAS_PROFILE: expected one of ci, dev, soak, got {profile!r}"
            )
        settings.load_profile(profile)
