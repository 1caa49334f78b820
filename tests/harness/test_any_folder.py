"""Any folder name, any working directory (issue 18.8): a clone sits in a folder named
``fracas`` (the one ``git clone`` makes), and in its parent folder that clone is a
namespace package ``fracas`` that Python would import ahead of the installed one for a
child started there; every Python child fracas starts keeps its cwd off sys.path."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fracas.harness.adapters.select import bundled_argv
from fracas.harness.kit.procs import python_argv

ROOT = Path(__file__).resolve().parents[2]


def test_children_started_beside_a_clone_named_fracas_import_the_installed_fracas(
    tmp_path: Path,
) -> None:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(tmp_path / "fracas")], check=True,
                   timeout=120)  # fmt: skip
    assert (tmp_path / "fracas" / "harness").is_dir()
    for argv in (python_argv("fracas.harness.front.cli", "--version"), [*bundled_argv(), "--help"]):
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (argv, done.stderr[-2000:])
        assert "ImportError" not in done.stderr and "ModuleNotFound" not in done.stderr
