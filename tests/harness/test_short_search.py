"""A property search that passes on fewer examples than its budget says so (issue 17:
a one-slice dev search once ran 12 examples of 20 and passed, and only the run table's
count of runs showed it)."""

from __future__ import annotations

import warnings

import pytest

from fracas.harness.run.slices import Slice
from fracas.scenarios.test_properties import ShortSearch, _say_if_short

SLICE = Slice(index=0, count=1, seed=0, examples=20, derandomized=True)


def test_a_search_that_passed_short_of_its_budget_warns_with_what_to_do() -> None:
    with pytest.warns(ShortSearch, match=r"12 examples of its 20 ran and passed") as got:
        _say_if_short(SLICE, 12, [])
    assert "--slices" in str(got[0].message)


def test_a_whole_budget_or_a_failure_says_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _say_if_short(SLICE, 20, [])
        _say_if_short(SLICE, 3, ["a failure"])  # the failure is what is reported
