"""The bench's set-ups of the bundled choreography and hybrid (bench/search.py
``--choreography``, ``--hybrid``): a pyproject.toml fracas reads, each planted defect
passed to the processes that carry it, and an unknown defect refused by name."""

from __future__ import annotations

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
