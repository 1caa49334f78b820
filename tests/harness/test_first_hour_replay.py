"""A user's first failure (issue #10.1): the replay command printed under it runs as
printed, from where the suite ran, against the orchestrator the suite used; replay files
from plain pytest outlive pytest's tmp cleanup and carry the report's run names; and
mistakes in a scenario read as one message (issue #10.3)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]
SCENARIO = '''
LOST = [{"fault": {"kind": "drop", "target": "payment",
                   "params": {"path": "/payments", "method": "POST", "phase": "after_commit",
                              "times": 1, "order_id": "ord-0002"}}, "at": 0}]

def test_lost_capture(fracas):
    fracas.run(fracas.orders(3), LOST).assert_consistent()

def test_bad_target(fracas):
    fracas.run(fracas.orders(1), [{"fault": {"kind": "kill", "target": "paymnet"}, "at": 0}])
'''
ORCH = "python examples/naive_orchestrator.py --bug no-idempotency"


#: PATH with no ``fracas`` on it: a user who did not activate the venv.
BARE_PATH = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                            if d and not (Path(d) / "fracas").exists())


def run_in(cwd: Path, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PATH": BARE_PATH, **env})


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A user's project: the naive orchestrator by a relative path, one failing scenario
    and one with a typo, run with plain pytest."""
    project = tmp_path_factory.mktemp("project")
    (project / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "naive_orchestrator.py", project / "examples")
    (project / "test_user.py").write_text(SCENARIO)
    done = run_in(project, [sys.executable, "-m", "pytest", "test_user.py", "-p",
                            "no:cacheprovider", "--rootdir", str(project),
                            "--orchestrator", ORCH])
    assert done.returncode == 1, done.stdout[-3000:]
    return project, done.stdout


def test_plain_pytest_keeps_replay_files_under_the_rootdir(suite: tuple[Path, str]) -> None:
    project, out = suite
    files = sorted(p.name for p in (project / ".fracas" / "replays").glob("*.json"))
    assert files == ["test_lost_capture.json"]
    # the runs table names the run exactly as the replay file (and the report) does
    assert re.search(r"VIOLATIONS?\s+test_lost_capture\s*$", out, flags=re.M), out[-2000:]


def test_a_typo_in_a_schedule_is_one_message(suite: tuple[Path, str]) -> None:
    _, out = suite
    section = re.split(r"_+ test_bad_target _+\n", out)[1].split("=====", 1)[0]
    assert "fracas: ScheduleError: faults[0].fault.target" in section
    assert 'Did you mean "payment"?' in section
    assert "harness/" not in section  # no harness frames


def test_the_replay_file_records_what_the_run_ran_against(suite: tuple[Path, str]) -> None:
    project, _ = suite
    data = json.loads((project / ".fracas" / "replays" / "test_lost_capture.json").read_text())
    assert data["orchestrator"]["command"] == shlex.split(ORCH)
    assert data["orchestrator"]["cwd"] == str(project)
    assert data["fault_backend"] == "embedded"
    assert data["seed"] == 0 and data["fracas_version"]


def test_the_printed_replay_command_reproduces_as_printed(suite: tuple[Path, str]) -> None:
    project, out = suite
    printed = re.findall(r"^replay a failure: (\S*fracas replay \S+)$", out, flags=re.M)
    assert printed, out[-2000:]
    argv = shlex.split(printed[0])
    # no fracas on PATH: the command names the script that ran, and runs as printed
    script = Path(sys.executable).parent / "fracas"
    assert (project / argv[0]).resolve() == script.resolve() and argv[1] == "replay"
    done = run_in(project, [*argv, "--times", "2", "--report", str(project / "replayed")])
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"orchestrator: {ORCH} (from the replay file)" in done.stdout
    assert "fault backend: embedded (from the replay file)" in done.stdout
    assert "fracas: reproduced 2 of 2 runs" in done.stdout


def test_replay_from_another_directory_finds_the_orchestrator(suite: tuple[Path, str]) -> None:
    """The command's relative script path holds from the directory the suite ran in."""
    project, _ = suite
    elsewhere = project / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    replay = project / ".fracas" / "replays" / "test_lost_capture.json"
    done = run_in(elsewhere, [*FRACAS, "replay", str(replay), "--report", str(elsewhere / "r")])
    assert "fracas: reproduced 1 of 1 runs" in done.stdout, done.stdout[-2000:] + done.stderr


def test_a_report_json_names_the_replay_file_to_use(tmp_path: Path) -> None:
    report = tmp_path / "rep"
    (report / "replays").mkdir(parents=True)
    (report / "replays" / "test_x.json").write_text("{}")
    (report / "test_x.json").write_text(json.dumps({"replay": {}, "meta": {}}))
    done = run_in(tmp_path, [*FRACAS, "replay", str(report / "test_x.json")])
    assert done.returncode == 2
    assert f"fracas replay {report / 'replays' / 'test_x.json'}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_mistake_in_a_fixture_is_one_message_too(tmp_path: Path) -> None:
    (tmp_path / "test_fix.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef plans(fracas):\n    return fracas.orders(-1)\n\n"
        "def test_uses_it(plans):\n    pass\n")
    done = run_in(tmp_path, [sys.executable, "-m", "pytest", "test_fix.py", "-p",
                             "no:cacheprovider", "--rootdir", str(tmp_path)])
    assert done.returncode == 1
    assert "fracas: WorkloadError: count: expected 0 or more, got -1" in done.stdout
    assert "harness/run/workload.py" not in done.stdout, done.stdout


def test_times_n_ends_with_a_tally_that_explains_changed() -> None:
    from fracas.harness.run.replay import Replay, tally_text
    from fracas.harness.run.schedule import Schedule

    replay = Replay(0, [], Schedule(), 1.0, frozenset({("double-charge", "ord-0002")}))
    text = tally_text(replay, ["reproduced", "changed", "did not reproduce"])
    assert "reproduced 1 of 3 runs" in text
    assert "1 of 3 runs changed" in text and "not the recorded ones" in text
    assert "did NOT reproduce every time" in text


def test_a_replay_of_an_unpinned_rule_reproduces_in_kind(suite: tuple[Path, str]) -> None:
    """A one-shot rule pinned to no order hits whichever order pays first: the recorded
    double charge of ord-0002 found on ord-0001 is the same failure, not a change."""
    project, _ = suite
    data = json.loads((project / ".fracas" / "replays" / "test_lost_capture.json").read_text())
    assert {o for _, o in data["violations"]} == {"ord-0002"}
    del data["schedule"]["faults"][0]["fault"]["params"]["order_id"]
    unpinned = project / "unpinned.json"
    unpinned.write_text(json.dumps(data))
    done = run_in(project, [*FRACAS, "replay", str(unpinned), "--times", "2",
                            "--report", str(project / "unpinned")])
    assert "fracas: reproduced 2 of 2 runs" in done.stdout, done.stdout[-3000:] + done.stderr


def test_the_verdict_matches_violations_by_rule_and_intent() -> None:
    from fracas.harness.run.replay import compare_violations, reproduced

    intents = {"ord-0001": "ok", "ord-0002": "ok", "ord-0003": "declined"}
    recorded = frozenset({("double-charge", "ord-0002")})
    moved = compare_violations(recorded, frozenset({("double-charge", "ord-0001")}), intents)
    assert moved == "reproduced in kind (recorded on ord-0002, now on ord-0001, same intent)"
    assert reproduced(moved)
    assert compare_violations(recorded, recorded, intents) == "reproduced"
    # another intent, or another rule, is not the recorded failure
    assert compare_violations(recorded, frozenset({("double-charge", "ord-0003")}),
                              intents) == "changed"
    assert compare_violations(recorded, frozenset({("liveness", "ord-0001")}),
                              intents) == "changed"
    assert compare_violations(recorded, frozenset(), intents) == "did not reproduce"
    # two recorded orders need two matches, not one matched twice
    both = frozenset({("double-charge", "ord-0001"), ("double-charge", "ord-0002")})
    assert compare_violations(both, frozenset({("double-charge", "ord-0001")}),
                              intents) == "changed"


def test_the_command_names_fracas_only_when_path_finds_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fracas.harness.kit.invocation import fracas_command

    script = Path(sys.executable).parent / "fracas"
    monkeypatch.setenv("PATH", os.pathsep.join([str(script.parent), BARE_PATH]))
    assert fracas_command() == "fracas"
    monkeypatch.setenv("PATH", BARE_PATH)
    assert Path(fracas_command()).resolve() == script.resolve()
    monkeypatch.chdir(script.parent.parent.parent)  # the venv's folder: a relative path
    assert fracas_command() == os.path.join(script.parent.parent.name, "bin", "fracas")
