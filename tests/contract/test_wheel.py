"""``pip install .`` (not only ``-e``) gives a working fracas (issue 19.1): the wheel holds
only ``fracas/``, and a fresh venv with that wheel alone, run from a folder that is no
checkout, passes the bundled scenario suite and finds a planted bug with the property
search. One test, because building and installing is the slow part (a few minutes in
all: pip fetches the dependencies from PyPI, or its cache)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from package_helpers import ROOT, expected_modules

#: What a checkout holds that a build must not see (venvs, caches, a previous build).
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                              ".*_cache", ".hypothesis", ".fracas", "fracas-report*")  # fmt: skip


def _env() -> dict[str, str]:
    """The user's environment: no venv of this checkout, no fracas choices."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("FRACAS_")}  # fmt: skip


def _run(argv: list[str], cwd: Path, timeout: float, **env: str) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(argv, cwd=cwd, env={**_env(), **env}, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip


def _build(tmp_path: Path) -> Path:
    """The wheel `pip install .` builds, from a copy (an in-tree build leaves build/ behind,
    whose stale files a later build would ship)."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=SKIP)
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                 "--disable-pip-version-check", "-w", str(tmp_path / "dist"), str(source)],
                tmp_path, 600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("fracas-*.whl")
    return wheel


def _check_contents(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"fracas", next(t for t in tops if t.endswith(".dist-info"))}, tops
    modules = {".".join(Path(n).with_suffix("").parts).removesuffix(".__init__")
               for n in names if n.endswith(".py") and not n.startswith("fracas/examples/")}  # fmt: skip
    assert modules == expected_modules()
    assert "fracas/examples/naive_orchestrator.py" in names


PLANTED = """
import sys
from pathlib import Path
from fracas.harness.search.planted import NAIVE, search
found = search(("no-compensation",), Path(sys.argv[1]), seed=0, profile="dev", timeout=600)
print("naive:", NAIVE)
print("first:", found.first is not None, "returncode:", found.returncode)
print(found.log[-3000:])
"""


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a build, an install, the whole suite and a search, on a busy machine
def test_a_plain_install_holds_only_fracas_and_runs_the_suite_and_the_search(
    tmp_path: Path,
) -> None:
    wheel = _build(tmp_path)
    _check_contents(wheel)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, 120).check_returncode()
    py = venv / "bin" / "python"
    done = _run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 str(wheel)], tmp_path, 900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    work = tmp_path / "work"  # no checkout here or above: only the install can answer
    work.mkdir()

    site = _run([str(py), "-c", "import fracas, sysconfig; print(fracas.__file__); "
                 "print(sysconfig.get_paths()['purelib'])"], work, 60)  # fmt: skip
    installed, purelib = site.stdout.split()
    assert installed == str(Path(purelib) / "fracas" / "__init__.py"), site.stdout
    # import-linter's graph of the installed package: the same modules, each once
    graph = _run([sys.executable, "-c", "import grimp; print(*sorted(grimp.build_graph("
                  "'fracas').modules))"], work, 120, PYTHONPATH=purelib)  # fmt: skip
    assert set(graph.stdout.split()) == expected_modules(), graph.stderr[-2000:]

    # The scenario suite on one worker per core, its report merged from the workers'
    # parts: what CI runs of the main job (.ci/run runs the tests alone).
    suite = _run([str(venv / "bin" / "fracas"), "run", "-n", "auto", "--report", "r"], work, 900)
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    # every scenario passed, with no warning (nothing failed, was skipped or errored)
    assert re.search(r"^=+ \d{2,} passed in [^,]*$", suite.stdout, re.M), suite.stdout[-3000:]
    assert re.search(r"^\d{2,} runs, \d+ orders, 0 violations", suite.stdout, re.M), suite.stdout[-3000:]
    index = json.loads((work / "r" / "index.json").read_text())
    assert len(index["runs"]) >= 50 and all(r["ok"] for r in index["runs"]), index["totals"]

    planted = _run([str(py), "-c", PLANTED, str(work / "planted")], work, 900)
    assert planted.returncode == 0, planted.stderr[-3000:]
    assert f"naive: {Path(purelib) / 'fracas' / 'examples' / 'naive_orchestrator.py'}" in (
        planted.stdout
    ), planted.stdout[:500]
    assert "first: True returncode: 1" in planted.stdout, planted.stdout[-3000:]
