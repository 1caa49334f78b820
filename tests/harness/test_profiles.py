"""Each chaos example starts real processes, so the profiles leave out what would run many
of them for little: Hypothesis's explain phase everywhere, and target() climbing where the
budget is too small for it to pay."""

from __future__ import annotations

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
