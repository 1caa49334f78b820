"""The top-level folders are one package, ``fracas``, to every tool that reads the checkout
(issue 19.1): import-linter's graph and mypy name each module once, under ``fracas.``;
pytest collects each scenario once; ``fracas run PATH`` runs PATH's scenarios and the
bundled suite only when no PATH is given or with ``--bundled``. A plain install is
tested in test_wheel.py; docs/extending.md ("One package") says why the links stay."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from mypy.find_sources import create_source_list
from mypy.options import Options
from package_helpers import ROOT, expected_modules

FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]


def test_the_import_graph_holds_each_module_once_under_fracas() -> None:
    graph = grimp.build_graph("fracas")
    assert graph.modules == expected_modules()


def test_mypy_names_each_file_of_the_package_under_fracas(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `dev.py lint` checks, from where it runs mypy (which names files from there)."""
    monkeypatch.chdir(ROOT)
    sources = create_source_list(["fracas/harness", "fracas/fakes"], Options())
    names = [s.module for s in sources]
    assert len(names) == len(set(names))
    wanted = ("fracas.harness", "fracas.fakes")
    assert set(names) == {m for m in expected_modules() if m.startswith(wanted)}


def _collected(*args: str, cwd: Path = ROOT) -> list[str]:
    """The test ids `fracas run ARGS -- --collect-only -q` collects."""
    done = subprocess.run([*FRACAS, "run", *args, "--", "--collect-only", "-qq"], cwd=cwd,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [ln for ln in done.stdout.splitlines() if "::" in ln]


def _scenario(name: str) -> str:
    """A test id without its folder: the same scenario has the same name either way."""
    return name.split("scenarios/", 1)[-1]


def test_the_bundled_suite_runs_once_by_whichever_name(tmp_path: Path) -> None:
    report = ["--report", str(tmp_path / "r")]
    bundled = _collected(*report)
    assert len(bundled) > 10
    by_path = _collected("scenarios", *report)
    both = _collected("scenarios", "--bundled", *report)
    assert len(set(bundled)) == len(bundled)
    assert sorted(map(_scenario, by_path)) == sorted(map(_scenario, bundled))
    assert both == by_path


def test_pytest_does_not_walk_into_the_links() -> None:
    """`pytest .` in a checkout finds the scenarios in scenarios/, not again in fracas/."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "--ignore",
                           "tests", "."], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    ids = [ln for ln in done.stdout.splitlines() if "::" in ln]
    assert ids and all(i.startswith("scenarios/") for i in ids), ids[:5]
    assert len(set(ids)) == len(ids)


def test_fracas_run_path_runs_only_that_folders_scenario(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "test_mine.py").write_text(
        "def test_one_order(fracas):\n    fracas.run(fracas.orders(1)).assert_consistent()\n"
    )
    done = subprocess.run([*FRACAS, "run", "mine", "--report", str(tmp_path / "r")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"collected 1 item$", done.stdout, re.M), done.stdout[-3000:]
    assert re.search(r"=+ 1 passed", done.stdout), done.stdout[-3000:]


def test_dev_py_remakes_a_venv_a_stopped_first_run_left_half_made(tmp_path: Path) -> None:
    """A first `dev.py test` stopped while it made .venv left a python without an
    activate script or pip, and later runs took it as made."""
    import importlib.util
    import venv

    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    env = tmp_path / ".venv"
    venv.EnvBuilder(with_pip=False).create(env)  # a python and activate, no pip yet
    assert (env / "bin" / "python").exists() and not dev.complete(env)
    (env / "bin" / "pip").write_text("")
    assert dev.complete(env)
    (env / "bin" / "activate").unlink()
    assert not dev.complete(env)
