"""The bench's set-ups of the bundled choreography and hybrid (bench/search.py
``--choreography``, ``--hybrid``): a pyproject.toml fracas reads, each planted defect
passed to the processes that carry it, and an unknown defect refused by name."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import pytest

from fracas.harness.search.planted import (
    CHOREO_RULES,
    HYBRID_RULES,
    prepare_choreography,
    prepare_hybrid,
)


def test_the_hybrid_plants_its_defect_in_the_orchestrator_alone(tmp_path: Path) -> None:
    prepare_hybrid(tmp_path, ("events-no-outbox",))
    tool = tomllib.loads((tmp_path / "pyproject.toml").read_text())["tool"]["fracas"]
    command = tool["orchestrator"]["command"]
    assert command[0] == sys.executable and command[-2:] == ["--bug", "events-no-outbox"]
    assert "--events" in command
    [notify] = tool["choreography"]["participants"]
    assert Path(notify["command"][1]).is_file() and "--bug" not in notify["command"]
    assert notify["consumes"] == ["order.completed", "order.failed"]


def test_the_choreography_plants_its_defect_in_every_participant(tmp_path: Path) -> None:
    prepare_choreography(tmp_path, ("no-outbox",))
    table = tomllib.loads((tmp_path / "pyproject.toml").read_text())["tool"]["fracas"]
    parts = table["choreography"]["participants"]
    assert len(parts) >= 5
    for part in parts:
        assert part["command"][-2:] == ["--bug", "no-outbox"]
        assert part["command"][0] == sys.executable and Path(part["command"][1]).is_file()


@pytest.mark.parametrize(
    ("prepare", "rules"), [(prepare_hybrid, HYBRID_RULES), (prepare_choreography, CHOREO_RULES)]
)
def test_an_unknown_defect_is_refused_naming_the_known_ones(
    tmp_path: Path,
    prepare: object,
    rules: dict[str, object],
) -> None:
    with pytest.raises(ValueError, match="expected some of") as info:
        prepare(tmp_path, ("no-such-bug",))  # type: ignore[operator]
    assert all(name in str(info.value) for name in rules)
    assert not (tmp_path / "pyproject.toml").exists()


def _of_run(work: Path) -> list[int]:
    """The processes of the fracas run a bench started in ``work`` (its pytest and what
    that started), by the environment they inherit."""
    mark = f"HYPOTHESIS_STORAGE_DIRECTORY={work}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue  # gone, or not ours
    return found


def test_a_bench_told_to_stop_stops_the_runs_it_started(tmp_path: Path) -> None:
    """The bench's searches run in sessions of their own, which a signal to the bench
    does not reach: SIGTERMed, it left its pytest and the topology running."""
    import signal
    import subprocess

    from fracas.harness.kit.waiting import wait_until

    bench = Path(__file__).resolve().parents[2] / "bench" / "search.py"
    proc = subprocess.Popen([sys.executable, str(bench), "--bugs", "amnesia", "--seeds", "1",
                             "--replays", "0", "--keep", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    work = tmp_path / "amnesia" / "seed-0"
    try:
        wait_until(lambda: len(_of_run(work)) >= 3, 120, what="the search's topology up")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 128 + signal.SIGTERM
        wait_until(lambda: not _of_run(work), 60, what="every process of the run gone")
    finally:
        proc.kill()
        for pid in _of_run(work):
            os.kill(pid, signal.SIGKILL)
