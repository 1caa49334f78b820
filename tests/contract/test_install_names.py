"""Installing fracas claims one import name, ``fracas`` (issue 11.4): a user's project whose
own packages are called ``orchestrator``, ``harness``, ``fakes`` or ``scenarios`` keeps
them, also inside a pytest session with the fracas plugin loaded."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

GENERIC = ("orchestrator", "harness", "fakes", "scenarios")


def test_the_distribution_claims_only_fracas() -> None:
    dist = importlib.metadata.distribution("fracas")
    assert (dist.read_text("top_level.txt") or "").split() == ["fracas"]
    targets = {ep.value.split(":")[0].split(".")[0] for ep in dist.entry_points}
    assert targets == {"fracas"}, targets


def _project(tmp_path: Path) -> Path:
    for name in GENERIC:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"MINE = {name!r}\n")
    return tmp_path


def _clean_env() -> dict[str, str]:
    """The user's environment: this checkout is not on their PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_a_users_packages_stay_theirs(tmp_path: Path) -> None:
    project = _project(tmp_path)
    code = textwrap.dedent(
        """
        import fakes, harness, orchestrator, scenarios
        import fracas.harness.run.runner, fracas.orchestrator.saga
        print(orchestrator.MINE, harness.MINE, fakes.MINE, scenarios.MINE)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=project, env=_clean_env(),
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["orchestrator", "harness", "fakes", "scenarios"]


def test_a_users_packages_stay_theirs_under_the_plugin(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "test_mine.py").write_text(
        "import orchestrator\n\n\ndef test_mine(fracas_world):\n"
        "    assert orchestrator.MINE == 'orchestrator'\n    assert fracas_world.customers\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py"],
        cwd=project, env=_clean_env(), capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "1 passed" in out.stdout


def test_the_checkout_folders_refuse_their_bare_names() -> None:
    """From a checkout's root the folders are on sys.path too; importing one by its bare
    name would load a second copy of every registry, so it stops with what to do."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", "import harness"], cwd=root, env=_clean_env(),
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode != 0
    assert "import it as fracas.harness" in out.stderr
