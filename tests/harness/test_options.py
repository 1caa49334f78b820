"""One options path (issue 19.4) and pytest passing through ``fracas run`` (issue 18.4):
each option is declared once, in front/options.py, and resolved once into a RunSpec that
the session and its xdist workers take as data; every option fracas run does not know is
pytest's, and ``--lf`` works."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fracas.harness.front.cli import main
from fracas.harness.front.options import OPTIONS, for_command
from fracas.harness.front.parsers import build_parsers
from fracas.harness.front.passthrough import split
from fracas.harness.front.runspec import OptionError, RunSpec, resolve

ROOT = Path(__file__).resolve().parents[2]
FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]

# A failing test before a passing one: -x stops after the first, --lf reruns only it.
TWO = "def test_a_fails():\n    assert False\n\n\ndef test_b_passes():\n    pass\n"
THREE_FAILING = "".join(f"def test_{i}():\n    assert False\n\n\n" for i in range(3))
PLUGIN = "def pytest_report_header(config):\n    return 'myplugin loaded'\n"
# Reads the spec the session (or its xdist worker) took: what fracas run resolved.
READS_SPEC = """
from fracas.harness.front.pytest_plugin import _SPEC


def test_spec(pytestconfig, worker_id):
    spec = pytestconfig.stash[_SPEC]
    assert (spec.seed, spec.orchestrator.call_timeout) == (7, 3.0)
    assert pytestconfig.getoption("fracas_seed") is None  # data, not a re-parsed flag
    assert worker_id.startswith("gw")


def test_spec_again(pytestconfig):
    assert pytestconfig.stash[_SPEC].seed == 7
"""


def fracas_run(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FRACAS, "run", "--report", str(folder / "report"), *args], cwd=folder,
        capture_output=True, text=True, timeout=240, env={**os.environ, **env},
    )  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "test_two.py").write_text(TWO)
    return tmp_path


# -- pytest's options go through -------------------------------------------------------
def test_fracas_run_splits_its_options_from_pytests() -> None:
    run = build_parsers()[1]["run"]
    argv = ["-k", "x", "-x", "--maxfail", "2", "mine/", "-p", "no:randomly", "--seed", "3",
            "--maxfail=4", "-pno:x", "--fracas-slices", "2", "--", "--lf", "other/"]
    ours, pytests = split(argv, run)
    assert ours == ["-k", "x", "mine/", "--seed", "3", "--fracas-slices", "2"]
    assert pytests == ["-x", "--maxfail", "2", "-p", "no:randomly", "--maxfail=4", "-pno:x",
                       "--lf", "other/"]  # fmt: skip


def test_x_stops_at_the_first_failure(folder: Path) -> None:
    done = fracas_run(folder, "test_two.py", "-x")
    assert done.returncode == 1, done.stderr
    assert "1 failed" in done.stdout and "passed" not in done.stdout.splitlines()[-1]


def test_a_value_option_given_as_a_separate_word_is_not_a_path(tmp_path: Path) -> None:
    (tmp_path / "test_three.py").write_text(THREE_FAILING)
    done = fracas_run(tmp_path, "--maxfail", "2", "test_three.py")
    assert done.returncode == 1, done.stderr
    assert "2 failed" in done.stdout.splitlines()[-1], done.stdout[-1500:]


def test_p_loads_a_plugin_named_in_the_next_word(folder: Path) -> None:
    (folder / "myplugin.py").write_text(PLUGIN)
    done = fracas_run(folder, "-p", "myplugin", "test_two.py", PYTHONPATH=str(folder))
    assert "myplugin loaded" in done.stdout, (done.stdout[-1500:], done.stderr)


def test_lf_reruns_only_the_last_failure(folder: Path) -> None:
    first = fracas_run(folder, "test_two.py")
    assert "1 failed, 1 passed" in first.stdout, first.stdout[-1500:]
    again = fracas_run(folder, "test_two.py", "--lf")
    assert "run-last-failure: rerun previous 1 failure" in again.stdout, again.stdout[-1500:]
    assert "1 failed, 1 deselected" in again.stdout.splitlines()[-1]


def test_everything_after_a_double_dash_still_goes_to_pytest(folder: Path) -> None:
    done = fracas_run(folder, "test_two.py", "--", "-x")
    assert "1 failed" in done.stdout and "passed" not in done.stdout.splitlines()[-1]


# -- errors speak for the command they are in ------------------------------------------
@pytest.mark.parametrize(
    ("argv", "usage", "hint"),
    [
        (["run", "--orchestrator-clok", "/c"], "usage: fracas run",
         "Did you mean --orchestrator-clock?"),
        (["run", "--fault-backend", "embeded"], "usage: fracas run", "Did you mean 'embedded'?"),
        (["replay", "x.json", "--tims", "3"], "usage: fracas replay", "Did you mean --times?"),
        (["up", "--sed", "3"], "usage: fracas up", "Did you mean --seed?"),
        (["run", "--seed", "-1"], "usage: fracas run", "--seed: expected 0 or more, got -1"),
    ],
)
def test_a_bad_option_prints_its_commands_usage(
    capsys: pytest.CaptureFixture[str], argv: list[str], usage: str, hint: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith(usage), err
    assert hint in err and "Traceback" not in err


def test_a_plugin_option_after_the_double_dash_says_where_it_goes(folder: Path) -> None:
    done = fracas_run(folder, "test_two.py", "--", "--fracas-seed", "3")
    assert done.returncode == 4
    assert "give it as fracas run --seed 3" in done.stdout + done.stderr


# -- declared once, resolved once --------------------------------------------------------
def test_every_option_of_the_table_is_in_both_helps() -> None:
    run_help = " ".join(build_parsers()[1]["run"].format_help().split())
    for option in for_command("run"):
        assert f"{option.cli} {option.metavar}" in run_help, option.cli
    done = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    pytest_flags = [o.pytest for o in OPTIONS if o.pytest is not None]
    assert len(pytest_flags) >= 11
    for flag in pytest_flags:
        assert f"{flag}=" in done.stdout, flag


def test_no_option_of_the_table_is_declared_anywhere_else() -> None:
    flags = {f for o in OPTIONS for f in (o.cli, o.pytest) if f}
    found = []
    for path in [*(ROOT / "harness").rglob("*.py"), *(ROOT / "scenarios").rglob("*.py")]:
        # A __main__ is a program of its own (the embedded proxy's --seed is its own).
        if path.name == "__main__.py" or (path.name, path.parent.name) == ("options.py", "front"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("add_argument", "addoption")):
                named = {a.value for a in node.args if isinstance(a, ast.Constant)}
                found += [(path.name, f) for f in named & flags]
    assert found == []


def test_the_spec_crosses_as_json_data_unchanged() -> None:
    spec = resolve({"orchestrator": "python -m myorch", "capabilities": "crash,review",
                    "clock": "/c", "health": "/hz", "call_timeout": "3", "seed": "5",
                    "shard": "2/3", "slices": "4", "time_scale": "1.5", "report": "r"},
                   environ={})  # fmt: skip
    data = json.loads(json.dumps(spec.to_data()))
    assert RunSpec.from_data(data) == spec
    assert spec.orchestrator.health == "/hz" and spec.shard.count == 3


def test_health_describes_a_command_and_bad_values_name_their_source() -> None:
    with pytest.raises(OptionError, match="--orchestrator-health"):
        resolve({"health": "/hz"}, environ={})  # the bundled one declares its own
    with pytest.raises(OptionError, match="FRACAS_SLICES: expected 1 or more, got 0"):
        resolve({}, environ={"FRACAS_SLICES": "0"})
    with pytest.raises(OptionError, match="--fracas-seed: expected a whole number"):
        resolve({"seed": "x"}, pytest_flags=True, environ={})


def test_xdist_workers_take_the_spec_fracas_run_resolved(tmp_path: Path) -> None:
    (tmp_path / "test_spec.py").write_text(READS_SPEC)
    done = fracas_run(tmp_path, "test_spec.py", "-n", "2", "--seed", "7",
                      "--orchestrator-call-timeout", "3", FRACAS_SEED="9")
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert "2 passed" in done.stdout.splitlines()[-1]


def test_plain_pytest_resolves_the_spec_itself_with_the_same_table(tmp_path: Path) -> None:
    (tmp_path / "test_spec.py").write_text(READS_SPEC.replace(
        'assert pytestconfig.getoption("fracas_seed") is None', "pass"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_spec.py", "-p", "no:cacheprovider", "-n", "2",
         "--rootdir", str(tmp_path), "--fracas-seed", "7", "--orchestrator-call-timeout", "3"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert "2 passed" in done.stdout.splitlines()[-1]
