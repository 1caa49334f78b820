"""The property scenarios alone, with no hand-written scenario, find the planted bugs of the
naive example orchestrator and name the matching rule; with no bug they find nothing.

Each case is a real ``fracas run -k test_properties`` in a child process (fracas.harness.search.planted),
judged from the JSON reports it writes. A search at the ``dev`` profile takes from seconds
to minutes per bug, so by default only a few bugs run (``DEFAULT``, within CI's budget);
``FRACAS_PLANTED_BUGS=all`` (or a comma-separated list) runs the whole matrix, and
``bench/search.py`` measures it over several seeds.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from fracas.harness.run.topology import SPARES
from fracas.harness.search.planted import NAIVE, RULES, search

#: Bugs the search finds at `dev` with seed 0 in a few seconds (see bench/search.py).
DEFAULT = ("line-by-line", "no-compensation")


def chosen() -> list[str]:
    wanted = os.environ.get("FRACAS_PLANTED_BUGS", "")
    if wanted == "all":
        return list(RULES)
    return [b for b in wanted.split(",") if b] or list(DEFAULT)


def test_every_bug_of_the_naive_orchestrator_has_its_rules() -> None:
    spec = importlib.util.spec_from_file_location("naive_orchestrator", NAIVE)
    assert spec is not None and spec.loader is not None
    naive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(naive)
    assert set(naive.BUGS) == set(RULES)
    assert len(RULES) >= 10
    for bug in RULES:
        assert f"``{bug}``" in (naive.__doc__ or ""), f"{bug} is not in the docstring"


@pytest.mark.slow
@pytest.mark.parametrize("bug", chosen())
def test_the_property_search_alone_finds_the_bug(bug: str, tmp_path: Path) -> None:
    found = search((bug,), tmp_path, seed=0, profile="dev", timeout=600)
    assert found.examples, found.log[-3000:]
    assert found.first is not None, (
        f"no example named {RULES[bug]}; rules seen: "
        f"{sorted({r for ex in found.examples for r in ex.rules})}\n{found.log[-3000:]}"
    )
    assert found.returncode == 1  # the suite fails, as it must
    assert not found.nemesis_error, found.log[-3000:]


@pytest.mark.slow
def test_the_naive_orchestrator_with_no_bug_passes_the_property_scenarios(
    tmp_path: Path,
) -> None:
    clean = search((), tmp_path, seed=0, profile="ci", timeout=600)
    assert len(clean.examples) >= 4, clean.log[-3000:]
    assert clean.violations == 0, [sorted(ex.rules) for ex in clean.examples]
    assert clean.returncode == 0, clean.log[-3000:]


@pytest.mark.slow
def test_a_search_stopped_by_ctrl_c_still_writes_its_report(tmp_path: Path) -> None:
    """A soak search (hundreds of examples) interrupted with SIGINT, as Ctrl-C sends it to
    the terminal's process group: pytest ends the session, and the report of every
    example run so far is written, with the index and the replay data."""
    # The topology boots its orchestrator and SPARES more, each with a log; each run
    # takes a spare and boots one more: the log numbered 1 + SPARES + 2 is the second
    # run's, so the first example has ended. (Counting from the first log seen stopped
    # the search at once on a busy machine, while the spares were still booting.)
    second_run = tmp_path / "report" / "run" / "logs" / f"orchestrator-{SPARES + 3}.log"

    def past_the_first() -> bool:
        return second_run.exists()

    stopped = search((), tmp_path, seed=0, profile="soak", timeout=120, stop_when=past_the_first)
    assert stopped.returncode is None  # it was still running when it was stopped
    assert stopped.examples, stopped.log[-3000:]
    assert (tmp_path / "report" / "index.html").exists(), stopped.log[-3000:]
    assert "KeyboardInterrupt" in stopped.log
