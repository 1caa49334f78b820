"""Mistakes are caught before anything starts, each as one short message (issue #10.3),
and a command-line orchestrator can declare its capabilities and clock (issue #9.5)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fracas.harness.adapters import AdapterError, adapter_from_spec, resolve_spec
from fracas.harness.adapters.command import check_command
from fracas.harness.adapters.select import Declared, spec_from_json
from fracas.harness.run.schedule import ScheduleError, parse_schedule


def entry(kind: str, target: str, params: dict[str, object] | None = None) -> dict[str, object]:
    return {"fault": {"kind": kind, "target": target, "params": params or {}}, "at": 0}


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (entry("latency", "paymnet", {"latency_ms": 5}), 'Did you mean "payment"?'),
        (entry("status", "orchestrator", {"path": "/x", "status": 503}), "status fault (http)"),
        (entry("kill", "orchestrater"), 'Did you mean "orchestrator"?'),
    ],
)
def test_an_unknown_target_is_caught_when_the_schedule_is_parsed(
    fault: dict[str, object], says: str
) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule([fault])
    assert "faults[0].fault.target" in str(info.value) and says in str(info.value)


def test_every_real_target_still_parses() -> None:
    assert len(parse_schedule([entry("kill", "orchestrator"), entry("kill", "crm"),
                               entry("down", "notify")])) == 3


def test_a_command_with_nothing_declared_never_claims_a_clock() -> None:
    adapter = adapter_from_spec(resolve_spec("python -m myorch", {}))
    assert "advance_clock" not in adapter.capabilities
    assert adapter.capabilities == frozenset({"crash", "restart", "pause", "review"})


def test_capabilities_and_clock_from_options_and_environment() -> None:
    spec = resolve_spec("python -m myorch", {},
                        declared=Declared(capabilities="crash,review", clock="/admin/clock"))
    adapter = adapter_from_spec(spec)
    assert adapter.capabilities == frozenset({"crash", "review", "advance_clock"})
    assert adapter.clock_path == "/admin/clock"
    env = {"FRACAS_ORCHESTRATOR": "python -m myorch",
           "FRACAS_ORCHESTRATOR_CAPABILITIES": "restart",
           "FRACAS_ORCHESTRATOR_CLOCK": "/tick",
           "FRACAS_ORCHESTRATOR_START_TIMEOUT": "45"}
    spec = resolve_spec(None, env)
    assert spec.capabilities == frozenset({"restart"}) and spec.clock == "/tick"
    assert spec.start_timeout == 45.0
    # the option beats the variable
    assert resolve_spec(None, env, declared=Declared(clock="/opt")).clock == "/opt"


@pytest.mark.parametrize(
    ("declared", "environ", "names"),
    [
        (Declared(capabilities="crash,fly"), {}, "--orchestrator-capabilities: unknown ['fly']"),
        (Declared(clock="admin/clock"), {}, "--orchestrator-clock: expected a path"),
        (Declared(), {"FRACAS_ORCHESTRATOR_START_TIMEOUT": "soon"},
         "FRACAS_ORCHESTRATOR_START_TIMEOUT: expected seconds"),
    ],
)
def test_bad_declarations_name_where_they_came_from(
    declared: Declared, environ: dict[str, str], names: str
) -> None:
    with pytest.raises(AdapterError) as info:
        resolve_spec("python -m myorch", environ, declared=declared)
    assert names in str(info.value)


def test_declaring_for_the_bundled_orchestrator_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="bundled one declares its own"):
        resolve_spec(None, {}, tmp_path / "none.toml", Declared(capabilities="crash"))


def test_start_timeout_in_the_pyproject_table(tmp_path: Path) -> None:
    py = tmp_path / "pyproject.toml"
    py.write_text('[tool.fracas.orchestrator]\ncommand = ["x"]\nstart_timeout = 90\n')
    assert resolve_spec(None, {}, py).start_timeout == 90.0
    py.write_text('[tool.fracas.orchestrator]\ncommand = ["x"]\nstart_timeout = -1\n')
    with pytest.raises(AdapterError, match="orchestrator.start_timeout"):
        resolve_spec(None, {}, py)


def test_a_spec_round_trips_through_a_replay_file() -> None:
    spec = resolve_spec("python examples/naive_orchestrator.py --bug x", {},
                        declared=Declared(capabilities="crash", clock="/c", start_timeout=12))
    back = spec_from_json(spec.to_json(), "replay.orchestrator")
    assert (back.command, back.capabilities, back.clock, back.start_timeout) == (
        spec.command, spec.capabilities, spec.clock, 12.0)
    assert back.cwd == str(Path.cwd())


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["pyhton", "x.py"], 'Did you mean "python"?'),
        ([sys.executable, "examples/naive_orchestrater.py"], "does not exist"),
        (["./nope.sh"], "is not an executable"),
    ],
)
def test_a_command_that_cannot_run_is_one_clear_error(argv: list[str], says: str) -> None:
    with pytest.raises(AdapterError) as info:
        check_command(argv)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_a_recorded_directory_that_is_gone_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="does not exist here"):
        check_command([sys.executable, "x.py"], str(tmp_path / "gone"))


def test_never_healthy_says_exited_with_n(tmp_path: Path) -> None:
    from fracas.harness.adapters.base import OrchestratorEnv
    from fracas.harness.adapters.process import ProcessAdapter

    adapter = ProcessAdapter([sys.executable, "-c", "import sys; sys.exit(3)"])
    env = OrchestratorEnv({}, "127.0.0.1", 9, tmp_path, tmp_path / "o.log")
    with pytest.raises(AdapterError) as info:
        adapter.start(env, timeout=10)
    adapter.stop()
    first = str(info.value).splitlines()[0]
    assert "never became healthy at" in first and "it exited with 3" in first
