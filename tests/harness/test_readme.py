"""The README's examples are run, not just read: the worked scenario, the property-based
one, the schedule entry, the pyproject table, and the plug-in-your-orchestrator commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from fracas.harness.adapters import adapter_from_spec, resolve_spec
from fracas.harness.run.schedule import parse_schedule

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]


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
    # as the README says to run it: fracas run PATH runs that file alone
    done = subprocess.run(
        [*FRACAS, "run", "test_readme_example.py", "--report", str(tmp_path / "report")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout


def test_the_readme_fits_in_one_sitting() -> None:
    assert len(README.splitlines()) <= 250


def test_every_table_lives_in_one_place() -> None:
    """A table row written in two of the docs drifts: one copy is measured again, the
    other is not. A row is known by its first two cells (headers left out)."""
    seen: dict[str, str] = {}
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        lines = path.read_text().splitlines()
        for before, line in zip(["", *lines], lines, strict=False):
            if not line.startswith("|") or set(line) <= set("|-: "):
                continue
            if before.startswith("|") and not set(before) <= set("|-: "):
                pass  # a data row after a data row
            elif not before.startswith("|"):
                continue  # a header row
            key = "|".join(line.split("|")[1:3]).strip()
            assert seen.setdefault(key, path.name) == path.name, (key, seen[key], path.name)

@pytest.mark.slow
def test_property_example_runs_under_the_ci_profile(tmp_path: Path) -> None:
    code = block_starting("python", "from hypothesis import given")
    (tmp_path / "test_readme_property.py").write_text(code)
    done = pytest_in(tmp_path, "test_readme_property.py", "--hypothesis-profile", "ci")
    assert done.returncode == 0, done.stdout[-3000:]

@pytest.mark.slow
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

@pytest.mark.slow
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
    # the README's replay command, on this run's report folder, reproduces 3 of 3
    (line,) = [x for b in blocks("sh") for x in b.splitlines() if x.startswith("fracas replay")]
    replay = shlex.split(line)
    replay[2] = replay[2].replace("fracas-report", str(tmp_path / "report"), 1)
    assert Path(replay[2]).is_file(), sorted(p.name for p in replays)
    done = subprocess.run(
        [*FRACAS, *replay[1:], "--report", str(tmp_path / "replayed")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "fracas: reproduced 3 of 3 runs" in done.stdout, done.stdout[-3000:] + done.stderr


# -- every command, option, variable and id the README names holds ---------------------
def fracas_help(*args: str) -> str:
    done = subprocess.run([*FRACAS, *args, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


def test_every_command_in_the_table_exists_with_its_options() -> None:
    rows = re.findall(r"^\| `(fracas [^`]+)` \|", README, flags=re.M)
    assert len(rows) >= 5
    for row in rows:
        words = row.split()
        sub = [] if words[1].startswith("--") else [words[1]]
        text = fracas_help(*sub)
        for option in re.findall(r"--[a-z][a-z-]*", row):
            assert option in text, (row, option)
        for short in re.findall(r"\[(-[a-z]) ", row):
            assert short in text, (row, short)


def test_the_pytest_options_the_readme_lists_exist() -> None:
    para = README.split("The pytest options are", 1)[1].split(".", 1)[0]
    options = re.findall(r"`(--[a-z-]+)", para)
    assert len(options) >= 7
    done = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    for option in options:
        assert option in done.stdout, option


def test_every_environment_variable_the_readme_names_is_read() -> None:
    code = "\n".join(p.read_text() for p in (ROOT / "harness").rglob("*.py"))
    code += (ROOT / "scenarios" / "conftest.py").read_text()
    names = set(re.findall(r"\b(FRACAS_[A-Z_]+|TOXIPROXY_URL)\b", README))
    names -= {"FRACAS_LISTEN", "FRACAS_STATE_DIR"}  # what fracas hands the orchestrator
    assert {"FRACAS_ORCHESTRATOR_CAPABILITIES", "FRACAS_ORCHESTRATOR_CLOCK",
            "FRACAS_PROFILE"} <= names
    for name in names:
        if name.endswith("_"):  # FRACAS_*_URL written as FRACAS_
            continue
        assert f'"{name}"' in code or f"'{name}'" in code, name


def test_order_ids_in_the_docs_look_like_real_ones() -> None:
    from fracas.harness.run.workload import orders

    real = orders(1)[0].order_id
    assert re.fullmatch(r"ord-\d{4}", real)
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for found in re.findall(r"\bord-[A-Za-z0-9]+", path.read_text()):
            assert re.fullmatch(r"ord-\d{4}", found), (path.name, found)


def test_activating_the_venv_puts_fracas_and_pytest_on_path() -> None:
    assert ". .venv/bin/activate" in block_starting("sh", ". .venv/bin/activate")
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "activate").exists()
    for tool in ("fracas", "pytest"):
        assert (bin_dir / tool).exists(), tool
    done = subprocess.run([str(bin_dir / "fracas"), "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("fracas ")


def test_the_root_conftest_loads_the_plugin_when_autoload_is_off() -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert "--fracas-seed" in done.stdout, done.stderr[-2000:]


def test_a_venv_with_another_checkouts_fracas_is_one_clear_message(tmp_path: Path) -> None:
    """The README promises the root conftest says so, instead of testing the wrong code."""
    import shutil

    copy = tmp_path / "checkout"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "fracas-report*",
                                                               ".fracas", "__pycache__"))
    bin_pytest = Path(sys.executable).parent / "pytest"
    done = subprocess.run([str(bin_pytest), "tests/harness/test_schedule.py", "-q",
                           "-p", "no:cacheprovider"], cwd=copy, capture_output=True,
                          text=True, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"this checkout is {copy}" in out and "dev.py test" in out
    assert len(out.strip().splitlines()) <= 10, out


def test_what_the_readme_says_about_errors_holds() -> None:
    from fracas.harness.run.schedule import ScheduleError

    for bad, says in [
        ({"kind": "latency", "target": "payment", "params": {"latncy_ms": 5}},
         'faults[0].fault.params.latncy_ms: '),
        ({"kind": "latency", "target": "paymnet", "params": {"latency_ms": 5}},
         "faults[0].fault.target: "),
    ]:
        try:
            parse_schedule([{"fault": bad, "at": 0}])
        except ScheduleError as exc:
            message = str(exc)
        else:
            raise AssertionError("the schedule validated")
        assert message.startswith(says)
        quoted = re.search(re.escape(says) + r"\.\.\. (.*?)`", README)
        assert quoted is not None, says
        assert quoted.group(1) in message


@pytest.mark.slow
def test_the_naive_orchestrator_sentence_counts_right(tmp_path: Path) -> None:
    """'With no bug switched on, the first command passes' and 'the review-timeout
    scenario is skipped' are computed, not remembered: the command is run as written."""
    assert "With no bug switched on, the first command passes." in README
    assert "review-timeout scenario is\nskipped" in README
    command = next(line for b in blocks("sh") for line in b.splitlines()
                   if line.startswith("fracas run --orchestrator"))
    import shlex

    done = subprocess.run(  # on two workers: the suite mostly waits on its processes
        [*FRACAS, "run", *shlex.split(command)[2:], "--report", str(tmp_path / "report"),
         "-n", "2", "--", "-rs"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (failed|passed|skipped)", done.stdout)}
    assert done.returncode == 0 and counts.get("failed", 0) == 0, done.stdout[-3000:]
    assert counts.get("passed", 0) > 0, done.stdout[-3000:]
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == counts.get("skipped", 0) >= 1, done.stdout[-3000:]
    assert all("advance_clock" in line for line in skipped), skipped


def test_the_adapter_protocol_the_docs_list_is_the_protocol() -> None:
    from fracas.harness.adapters import OrchestratorAdapter, ProcessHandle

    def members(protocol: type) -> set[str]:
        return {n for n in (*vars(protocol), *protocol.__annotations__) if not n.startswith("_")}

    doc = (ROOT / "docs" / "extending.md").read_text()  # the one place the list lives
    para = doc.split("Its members are", 1)[1].split(". ", 1)[0]
    assert set(re.findall(r"`(\w+)`", para)) == members(OrchestratorAdapter)
    para = doc.split("`fracas.harness.adapters.ProcessHandle`", 1)[1].split(")", 1)[0]
    assert set(re.findall(r"`(\w+)`", para)) == members(ProcessHandle)


def test_the_fracas_adapter_conftest_runs_scenarios_through_your_class(tmp_path: Path) -> None:
    """The README's conftest, as written, with MyAdapter being the test suite's second
    adapter (tests/contract/popen_adapter.py): a scenario's run reports that adapter."""
    code = block_starting("python", "# conftest.py: every scenario runs through your adapter")
    (tmp_path / "conftest.py").write_text(code)
    (tmp_path / "my_adapter.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'tests' / 'contract')!r})\n"
        "from popen_adapter import PopenAdapter as MyAdapter\n"
    )
    (tmp_path / "test_through_mine.py").write_text(
        "def test_it(fracas):\n"
        "    result = fracas.run(fracas.orders(2)).assert_consistent()\n"
        "    assert 'PopenAdapter' in result.history.meta['orchestrator']\n"
        "    assert 'PopenAdapter' in fracas.orchestrator.description\n"
    )
    done = pytest_in(tmp_path, "test_through_mine.py")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout
