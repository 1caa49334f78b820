"""Choosing the orchestrator: precedence, and errors that name the bad field."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fracas.harness.adapters import AdapterError, adapter_from_spec, resolve_spec


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return path


def test_default_is_bundled(tmp_path: Path) -> None:
    spec = resolve_spec(None, environ={}, pyproject=write(tmp_path, "[project]\nname='x'\n"))
    assert spec.bundled and spec.source == "default"
    adapter = adapter_from_spec(spec)
    assert "advance_clock" in adapter.capabilities
    assert adapter.argv[1:4] == ["-P", "-m", "fracas.orchestrator"]  # -P: not the cwd's fracas


def test_precedence_option_env_pyproject(tmp_path: Path) -> None:
    py = write(tmp_path, '[tool.fracas]\norchestrator = "python -m from_pyproject"\n')
    env = {"FRACAS_ORCHESTRATOR": "python -m from_env"}
    assert resolve_spec("python -m from_option", env, py).command == (
        "python", "-m", "from_option")
    assert resolve_spec(None, env, py).command == ("python", "-m", "from_env")
    spec = resolve_spec(None, {}, py)
    assert spec.command == ("python", "-m", "from_pyproject")
    assert "[tool.fracas]" in spec.source


def test_pyproject_table(tmp_path: Path) -> None:
    py = write(
        tmp_path,
        """
[tool.fracas.orchestrator]
command = ["python", "-m", "myorch"]
clock = "/admin/clock"
capabilities = ["crash", "restart"]
env = { MYORCH = "1" }
""",
    )
    adapter = adapter_from_spec(resolve_spec(None, {}, py))
    assert adapter.argv == [sys.executable, "-m", "myorch"]  # "python" = fracas's interpreter
    assert adapter.capabilities == frozenset({"crash", "restart", "advance_clock"})
    assert adapter.extra_env == {"MYORCH": "1"}


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ('[tool.fracas.orchestrator]\ncommand = []\n', "orchestrator.command"),
        ('[tool.fracas.orchestrator]\ncommand = ["x"]\nclock = "admin"\n', "orchestrator.clock"),
        ('[tool.fracas.orchestrator]\ncommand = ["x"]\ncapabilities = ["fly"]\n', "capabilities"),
        ('[tool.fracas.orchestrator]\ncommand = ["x"]\ncolour = 1\n', "unknown key(s) ['colour']"),
        ("[tool.fracas]\norchestrator = 3\n", "expected \"bundled\""),
        ("[tool.fracas\n", "not valid TOML"),
    ],
)
def test_bad_specs_name_the_field(tmp_path: Path, body: str, names: str) -> None:
    with pytest.raises(AdapterError) as info:
        resolve_spec(None, {}, write(tmp_path, body))
    assert names in str(info.value)


def test_unsplittable_command_is_a_clear_error() -> None:
    with pytest.raises(AdapterError, match="FRACAS_ORCHESTRATOR: cannot split"):
        resolve_spec(None, {"FRACAS_ORCHESTRATOR": "python -c 'oops"})


def test_quiet_start_is_declared_and_checked(tmp_path: Path) -> None:
    """Only a declared quiet start lets the harness boot the next run's orchestrator
    ahead; it survives the round trip through a replay file."""
    from fracas.harness.adapters.select import spec_from_json

    table = '[tool.fracas.orchestrator]\ncommand = ["python", "-m", "myorch"]\n'
    assert adapter_from_spec(resolve_spec(None, {}, write(tmp_path, table))).quiet_start is False
    spec = resolve_spec(None, {}, write(tmp_path, table + "quiet_start = true\n"))
    assert spec.quiet_start and adapter_from_spec(spec).quiet_start
    assert spec_from_json(spec.to_json(), "replay.orchestrator").quiet_start
    with pytest.raises(AdapterError, match=r"quiet_start: expected true or false, got 'yes'"):
        resolve_spec(None, {}, write(tmp_path, table + 'quiet_start = "yes"\n'))
