"""Hypothesis settings profiles for chaos runs: each example starts real processes, so
counts are small and deadlines off. ``stateful_step_count`` bounds the rules one example
of the stateful scenario runs (scenarios/test_stateful.py).

- ``ci``: a handful of derandomized examples (the scenario suite's default);
- ``dev``: more, randomized, for a developer's afternoon;
- ``soak``: hundreds, for a night (``FRACAS_SOAK_EXAMPLES`` sets how many; 500).
"""

from __future__ import annotations

import os

from hypothesis import settings


def register_profiles() -> None:
    settings.register_profile(
        "ci",
        max_examples=4,
        deadline=None,
        derandomize=True,
        print_blob=True,
        stateful_step_count=8,
    )
    # dev stops at the first bug it finds (report_multiple_bugs=False): shrinking one
    # failure is what a developer waits for, not the search for a second one.
    settings.register_profile(
        "dev",
        max_examples=20,
        deadline=None,
        print_blob=True,
        stateful_step_count=12,
        report_multiple_bugs=False,
    )
    settings.register_profile(
        "soak",
        max_examples=int(os.environ.get("FRACAS_SOAK_EXAMPLES", "500")),
        deadline=None,
        print_blob=True,
        stateful_step_count=20,
    )


register_profiles()
