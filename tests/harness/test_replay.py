"""Replay files rerun the same orders and fault schedule, and say whether the recorded
violations reproduced. Bad files are rejected with the field named, never executed."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from harness_helpers import NAIVE, naive_spec

from fracas.harness.run.replay import ReplayError, load_replay, parse_replay
from fracas.harness.run.runner import run
from fracas.harness.run.workload import orders

ROOT = Path(__file__).resolve().parents[2]
LOST_CAPTURE = [{"fault": {"kind": "drop", "target": "payment",
                           "params": {"path": "/payments", "method": "POST",
                                      "phase": "after_commit", "times": 1,
                                      "order_id": "ord-0002"}}, "at": 0}]


def fracas(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fracas.harness.front.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real failing run's replay file: a lost capture and a retry without a key."""
    from fracas.harness.run.topology import Topology, TopologyConfig

    tmp = tmp_path_factory.mktemp("replay")
    with Topology.start(TopologyConfig(run_dir=tmp / "run", seed=3,
                                       orchestrator=naive_spec("no-idempotency"))) as topo:
        result = run(topo, orders(3, seed=3), LOST_CAPTURE, seed=3)
    assert ("double-charge", "ord-0002") in {(v.rule, v.order_id)
                                              for v in result.verdict.violations}
    return result.write_replay(tmp / "lost-capture.json")


def test_replay_file_holds_the_run(recorded: Path) -> None:
    replay = load_replay(recorded)
    assert replay.seed == 3
    assert [p.order for p in replay.plans] == [p.order for p in orders(3, seed=3)]
    assert replay.schedule.to_json()["faults"][0]["fault"]["kind"] == "drop"
    assert ("double-charge", "ord-0002") in replay.violations


def test_replay_reproduces_the_failure(recorded: Path, tmp_path: Path) -> None:
    cmd = f"{sys.executable} {NAIVE} --bug no-idempotency"
    done = fracas("replay", str(recorded), "--orchestrator", cmd,
                  "--report", str(tmp_path / "r"))
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "run 1/1: reproduced" in done.stdout
    assert "double-charge" in done.stdout
    report = json.loads(next((tmp_path / "r").glob("replay-1.json")).read_text())
    assert report["replay"]["orders"] == json.loads(recorded.read_text())["orders"]


def test_a_fixed_orchestrator_does_not_reproduce(recorded: Path, tmp_path: Path) -> None:
    done = fracas("replay", str(recorded), "--orchestrator", shlex.join([sys.executable, str(NAIVE)]),
                  "--report", str(tmp_path / "r"))
    assert done.returncode == 0, done.stdout[-2000:]
    assert "did not reproduce" in done.stdout
    assert "did NOT reproduce" in done.stdout  # said loudly, never dropped


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "expected a JSON object"),
        ({"fracas_replay": 2}, "fracas_replay"),
        ({"fracas_replay": 1, "seed": "x", "orders": []}, "seed"),
        ({"fracas_replay": 1, "seed": 1, "orders": [{"order": {}}]}, "orders[0].order.order_id"),
        ({"fracas_replay": 1, "seed": 1, "orders": [], "schedule": {"faults": [{"at": 1}]}},
         "faults[0].fault"),
        ({"fracas_replay": 1, "seed": 1, "orders": [], "settle_seconds": -1}, "settle_seconds"),
    ],
)
def test_bad_replay_data_names_the_field(data: object, field: str) -> None:
    with pytest.raises(ReplayError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_replay(data)


def test_bad_replay_file_is_a_clean_cli_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"fracas_replay": 1, "seed": 1, "orders": [{"order": {"order_id": 5}}]}')
    done = fracas("replay", str(bad))
    assert done.returncode == 2
    assert "orders[0].order.order_id" in done.stderr
    assert "Traceback" not in done.stderr
    missing = fracas("replay", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_a_run_through_a_custom_adapter_says_so_on_replay(tmp_path: Path) -> None:
    """A conftest's fracas_adapter object cannot be written into a file: the replay file
    names its class instead of the default spec, and `fracas replay` stops with what to do
    rather than run against the bundled orchestrator and report "did not reproduce"."""
    from types import SimpleNamespace

    from fracas.harness.run.provenance import replay_context

    class MyAdapter:
        description = "my engine on port 9"

    topo = SimpleNamespace(config=SimpleNamespace(orchestrator=None, adapter=MyAdapter()),
                           backend=SimpleNamespace(name="embedded"))  # fmt: skip
    context = replay_context(topo)
    assert context["orchestrator"] is None
    assert context["adapter"]["class"].endswith("MyAdapter")
    data = {"fracas_replay": 1, "seed": 4, "orders": [], "schedule": {"faults": []}, **context}
    replay = parse_replay(data)
    assert replay.adapter is not None and "my engine on port 9" in replay.adapter
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(data))
    done = fracas("replay", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "recorded through the adapter" in done.stderr and "--orchestrator" in done.stderr
    assert "--fracas-seed 4" in done.stderr and "Traceback" not in done.stderr
    with pytest.raises(ReplayError, match="adapter"):
        parse_replay({**data, "adapter": "not a table"})
