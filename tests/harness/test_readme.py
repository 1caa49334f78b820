"""The README's examples are run, not just read: the worked scenario, the property-based
one, the schedule entry, the pyproject table, and the plug-in-your-orchestrator commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from harness.adapters import adapter_from_spec, resolve_spec
from harness.schedule import parse_schedule

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
FRACAS = [sys.executable, "-m", "harness.cli"]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def block_starting(lang: str, first_line: str) -> str:
    found = [b for b in blocks(lang) if b.startswith(first_line)]
    assert len(found) == 1, f"README has no single ```{lang} block starting {first_line!r}"
    return found[0]


def pytest_in(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )


def test_worked_scenario_is_short_and_passes(tmp_path: Path) -> None:
    code = block_starting("python", "# scenarios/test_readme_example.py")
    body = [line for line in code.splitlines()[1:] if line.strip()]
    assert len(body) <= 15, f"the README's example scenario has {len(body)} lines"
    (tmp_path / "test_readme_example.py").write_text(code)
    done = pytest_in(tmp_path, "test_readme_example.py")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout


def test_property_example_runs_under_the_ci_profile(tmp_path: Path) -> None:
    code = block_starting("python", "from hypothesis import given")
    (tmp_path / "test_readme_property.py").write_text(code)
    done = pytest_in(tmp_path, "test_readme_property.py", "--hypothesis-profile", "ci")
    assert done.returncode == 0, done.stdout[-3000:]


def test_stateful_example_runs_under_the_ci_profile(tmp_path: Path) -> None:
    code = block_starting("python", "from hypothesis import settings\nfrom hypothesis.stateful")
    (tmp_path / "test_readme_stateful.py").write_text(code)
    done = pytest_in(tmp_path, "test_readme_stateful.py", "--hypothesis-profile", "ci")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout


def test_schedule_entry_and_pyproject_table_validate(tmp_path: Path) -> None:
    entry = block_starting("python", '{"fault": {"kind": "kill"')
    entry = entry.split("#")[0]  # the trailing comment
    schedule = parse_schedule([eval(entry, {"__builtins__": {}})])  # noqa: S307 - a dict literal
    assert schedule.faults[0].when is not None
    toml = block_starting("toml", "[tool.fracas.orchestrator]")
    (tmp_path / "pyproject.toml").write_text(toml)
    tomllib.loads(toml)
    adapter = adapter_from_spec(resolve_spec(None, {}, tmp_path / "pyproject.toml"))
    assert adapter.argv[1:] == ["-m", "myorch"] and "advance_clock" in adapter.capabilities


def test_plugging_in_the_naive_orchestrator_catches_its_bug(tmp_path: Path) -> None:
    """The README's second `fracas run` command fails, naming a double charge."""
    commands = [line for b in blocks("sh") for line in b.splitlines()
                if line.startswith("fracas run --orchestrator")]
    assert len(commands) == 2
    buggy = commands[1]
    import shlex

    argv = shlex.split(buggy)[2:]
    done = subprocess.run(
        [*FRACAS, "run", *argv, "--report", str(tmp_path / "report")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 1, done.stdout[-3000:]
    assert "double-charge" in done.stdout
    assert "fracas replay" in done.stdout
    assert (tmp_path / "report" / "index.html").exists()
    replays = list((tmp_path / "report" / "replays").glob("*.json"))
    assert replays
