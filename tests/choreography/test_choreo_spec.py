"""Declaring a choreography: every bad value of the table is one message naming its key
and what was expected; a good one survives the trips to xdist workers and replay files."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from choreo_helpers import EXAMPLE, HYBRID, choreo_spec, example_table

from fracas.harness.adapters import AdapterError, resolve_spec
from fracas.harness.adapters.choreo_spec import ChoreographySpec, check_runnable, parse
from fracas.harness.adapters.select import adapter_from_spec, spec_from_json
from fracas.harness.front.runspec import OptionError, RunSpec, resolve


def _broken(change: Any) -> str:
    table = copy.deepcopy(example_table())
    change(table)
    with pytest.raises(AdapterError) as caught:
        parse(table, "T", None)
    return str(caught.value)


@pytest.mark.parametrize(("change", "says"), [
    (lambda t: t.update(acks=1), "T: unknown key(s) ['acks']"),
    (lambda t: t.update(ack_wait=0), "T.ack_wait: expected seconds from 0.1 to 600, got 0"),
    (lambda t: t.update(max_deliver=2.5), "T.max_deliver: expected a whole number"),
    (lambda t: t.update(view="ledger"), "T.view: expected the name of a participant"),
    (lambda t: t.update(broker="http://x"), "T.broker: expected a nats:// URL"),
    (lambda t: t.update(participants=[]), "T.participants: expected a list of participant"),
    (lambda t: t["participants"][1].update(consumes=["order.paid"]),
     "T.participants[1].consumes: unknown event(s) ['order.paid']"),
    (lambda t: t["participants"][2].update(capabilities=["advance_clock"]),
     "T.participants[2].capabilities: expected some of ['crash', 'pause', 'restart', 'review']"),
    (lambda t: t["participants"][0].update(name="Orders!"), "T.participants[0].name: expected"),
    (lambda t: t["participants"][3].update(name="customer"), "T.participants: names must differ"),
    (lambda t: t["participants"][4].update(command=[]), "T.participants[4].command: expected"),
])
def test_a_bad_table_names_the_key_and_what_was_expected(change: Any, says: str) -> None:
    assert says in _broken(change)


def test_a_hybrid_declares_no_view_since_its_orchestrator_is_one(tmp_path: Path) -> None:
    """Both tables make a hybrid; the choreography's order view would be a second
    answer to GET /orders/{id}, so the key is refused by name."""
    text = (EXAMPLE / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(
        text + '\n[tool.fracas.orchestrator]\ncommand = ["python", "app.py"]\n')
    with pytest.raises(AdapterError, match=r"choreography\]\.view: a hybrid's orchestrator"):
        resolve_spec(environ={}, pyproject=tmp_path / "pyproject.toml")


def test_the_hybrid_spec_survives_xdist_and_replay_files() -> None:
    spec = resolve({"choreography": str(HYBRID)}, environ={}).orchestrator
    assert spec.hybrid and not spec.bundled and spec.command is not None
    assert "--events" in spec.command and spec.cwd == str(HYBRID)
    assert spec.describe().startswith("hybrid: python -P -m fracas.orchestrator")
    assert resolve_spec(environ={}, pyproject=HYBRID / "pyproject.toml") == replace(
        spec, source=f"{HYBRID / 'pyproject.toml'} [tool.fracas] hybrid")
    assert RunSpec.from_data(RunSpec(orchestrator=spec).to_data()).orchestrator == spec
    back = spec_from_json(spec.to_json(), "replay.orchestrator")
    assert (back.command, back.cwd, back.choreography) == (spec.command, spec.cwd,
                                                           spec.choreography)
    parsed = ChoreographySpec.from_json(back.choreography or {})
    assert (parsed.hybrid, parsed.view, [p.name for p in parsed.participants]) == (
        True, None, ["notify"])
    assert "--events" in adapter_from_spec(replace(spec, command=None)).argv  # "bundled"


def test_choreography_flag_errors_name_the_flag(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="--choreography: expected a pyproject.toml"):
        resolve({"choreography": str(tmp_path / "nowhere")}, environ={})
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(OptionError, match=r"has no \[tool.fracas.choreography\] table"):
        resolve({"choreography": str(tmp_path)}, environ={})
    with pytest.raises(OptionError, match="name two systems under test"):
        resolve({"choreography": str(EXAMPLE), "orchestrator": "python x.py"}, environ={})


def test_a_participant_command_that_cannot_run_is_named_before_anything_starts() -> None:
    spec = choreo_spec()
    assert spec.choreography is not None
    check_runnable(spec.choreography)  # the bundled one runs
    bad = copy.deepcopy(spec.choreography)
    bad["participants"][2]["command"] = ["python", "paymnet.py"]
    with pytest.raises(AdapterError, match="participant payment: .*'paymnet.py' does not exist"):
        check_runnable(bad)


def test_the_spec_survives_xdist_and_replay_files() -> None:
    spec = resolve({"choreography": str(EXAMPLE)}, environ={}).orchestrator
    assert spec.describe().startswith("choreography of orders, customer, payment")
    assert RunSpec.from_data(RunSpec(orchestrator=spec).to_data()).orchestrator == spec
    back = spec_from_json(spec.to_json(), "replay.orchestrator")
    assert back.choreography == spec.choreography
    parsed = ChoreographySpec.from_json(back.choreography or {})
    assert (parsed.view, parsed.ack_wait, len(parsed.participants)) == ("orders", 2.0, 6)
