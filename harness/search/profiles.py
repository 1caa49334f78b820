"""Hypothesis settings profiles for chaos runs: each example starts real processes, so
counts are small and deadlines off. ``stateful_step_count`` bounds the rules one example
of the stateful scenario runs (scenarios/test_stateful.py).

- ``ci``: a handful of derandomized examples (the scenario suite's default);
- ``dev``: more, randomized, for a developer's afternoon (``FRACAS_DEV_EXAMPLES``; 20);
- ``soak``: hundreds, for a night (``FRACAS_SOAK_EXAMPLES`` sets how many; 500).
"""

from __future__ import annotations

import os

from hypothesis import Phase, settings

#: Every phase but ``explain``: it re-runs the shrunk case many times over to say which
#: parts of it matter, and here each run starts real processes; the witness says it.
SEARCH = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
#: dev's budget is small: Hypothesis runs its one optimisation pass (``target()``)
#: halfway through and climbs from one example for the rest, so half a 20-example search
#: would be spent near one run. Steering pays at soak's hundreds.
SMALL = tuple(p for p in SEARCH if p is not Phase.target)


def _examples(env: str, default: int) -> int:
    """A profile's example count from the environment; a bad value says what was expected
    (this runs at import, where a bare ValueError would be a traceback with no hint)."""
    raw = os.environ.get(env)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{env}={raw!r}: expected a whole number of examples, 1 or more "
                         f"(unset it for the default, {default})")  # fmt: skip
    return value


def register_profiles() -> None:
    settings.register_profile(
        "ci",
        max_examples=4,
        deadline=None,
        derandomize=True,
        print_blob=True,
        stateful_step_count=8,
        phases=SMALL,
    )
    # dev stops at the first bug it finds (report_multiple_bugs=False): shrinking one
    # failure is what a developer waits for, not the search for a second one.
    settings.register_profile(
        "dev",
        max_examples=_examples("FRACAS_DEV_EXAMPLES", 20),
        deadline=None,
        print_blob=True,
        stateful_step_count=12,
        report_multiple_bugs=False,
        phases=SMALL,
    )
    settings.register_profile(
        "soak",
        max_examples=_examples("FRACAS_SOAK_EXAMPLES", 500),
        deadline=None,
        print_blob=True,
        stateful_step_count=20,
        phases=SEARCH,
    )


register_profiles()
