"""Scale out (issue 13): shards split the suite with no coordination, Hypothesis slices
split a property test's examples, and the report parts of shards and xdist workers merge
into the one index an unsharded run writes: the same runs, with the same verdicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from fracas.harness.front.cli import main
from fracas.harness.front.shard import Shard, ShardError, parse_shard, shard_from
from fracas.harness.kit.timescale import TimeScaleError, parse_scale, time_scale
from fracas.harness.report.merge import MergeError, merge_reports
from fracas.harness.run.slices import derive_seed, share, slice_count


# -- shards ---------------------------------------------------------------------------
def test_shards_are_disjoint_and_cover_the_suite() -> None:
    items = [f"t{i}" for i in range(11)]
    slices = [Shard(k, 3).select(items)[0] for k in (1, 2, 3)]
    assert sorted(sum(slices, [])) == sorted(items)
    assert all(len(s) in (3, 4) for s in slices)  # round robin: balanced
    assert Shard(2, 3).select(items) == Shard(2, 3).select(list(items))  # deterministic


@pytest.mark.parametrize(
    "text,expected",
    [("0/2", "1 <= K <= N"), ("3/2", "1 <= K <= N"), ("1-2", "expected K/N"),
     ("a/b", "expected K/N"), ("1/0", "1 <= K <= N")],
)
def test_a_bad_shard_names_the_option_and_the_form(text: str, expected: str) -> None:
    with pytest.raises(ShardError, match=expected) as err:
        parse_shard(text)
    assert str(err.value).startswith("--shard: ")


def test_a_kubernetes_indexed_job_gives_the_shard() -> None:
    env = {"JOB_COMPLETION_INDEX": "2", "FRACAS_SHARD_COUNT": "4"}
    assert shard_from(None, env) == Shard(3, 4)  # the index is 0-based
    assert shard_from("1/2", env) == Shard(1, 2)  # the option wins
    assert shard_from(None, {"FRACAS_SHARD": "2/5"}) == Shard(2, 5)
    assert shard_from(None, {}) == Shard(1, 1)
    with pytest.raises(ShardError, match="FRACAS_SHARD_COUNT"):
        shard_from(None, {"JOB_COMPLETION_INDEX": "0"})


def test_fracas_run_refuses_a_bad_shard_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--shard", "3/2"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--shard: expected 1 <= K <= N in K/N, got '3/2'" in err
    assert "Traceback" not in err


# -- Hypothesis slices ---------------------------------------------------------------
def test_slice_seeds_are_stable_and_distinct() -> None:
    seeds = [derive_seed(0, i) for i in range(8)]
    assert len(set(seeds)) == 8
    assert seeds == [derive_seed(0, i) for i in range(8)]  # no hash() randomisation
    assert derive_seed(1, 0) != derive_seed(0, 0)
    assert seeds[0] == 1041748860011888714  # the same on every machine, every Python


def test_slice_shares_add_up_to_the_profile() -> None:
    assert [share(500, i, 8) for i in range(8)] == [63, 63, 63, 63, 62, 62, 62, 62]
    assert sum(share(4, i, 3) for i in range(3)) == 4
    assert slice_count(None, None, "soak") == 8
    assert slice_count("3", "5", "soak") == 3
    with pytest.raises(ValueError, match="FRACAS_SLICES: expected 1 or more"):
        slice_count(None, "0", "ci")


# -- time scale ----------------------------------------------------------------------
def test_the_time_scale_follows_workers_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRACAS_TIME_SCALE", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
    assert time_scale() == 2.0
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "1")
    assert time_scale() == 1.0
    monkeypatch.setenv("FRACAS_TIME_SCALE", "3.5")
    assert time_scale() == 3.5
    for bad in ("0", "-1", "fast", "nan"):
        with pytest.raises(TimeScaleError, match="expected a number greater than 0"):
            parse_scale(bad)


# -- merge ---------------------------------------------------------------------------
def _folder(root: Path, name: str, run: str, seed: int = 0) -> Path:
    folder = root / name
    (folder / "parts").mkdir(parents=True)
    (folder / "replays").mkdir()
    (folder / "replays" / f"{run}.json").write_text('{"fracas_replay": 1}')
    (folder / f"{run}.json").write_text(json.dumps({"fracas_report": 1, "replay": f"{folder}/replays"}))
    (folder / f"{run}.html").write_text(f"<p>fracas replay {folder}/replays/{run}.json</p>")
    row = {
        "run": run, "html": f"{run}.html", "json": f"{run}.json", "test": None, "ok": False,
        "violations": 1, "rules": ["double-charge"], "orders": 2, "faults": [],
        "duration_s": 1.0, "replay": f"fracas replay {folder}/replays/{run}.json",
        "summary": {"orders": 2, "outcomes": {"completed": 2}, "faults": 1, "requests": 10,
                    "retries_per_order_mean": 0.5, "orders_compensated": 0},
        "position": [0 if name == "a" else 1, 0],
    }
    part = {"fracas_part": 1, "part": f"p-{name}", "session": {"seed": seed, "orchestrator": "o"},
            "runs": [row], "coverage": {"cells": [], "steps": [], "families": [], "phases": []}}
    (folder / "parts" / f"p-{name}.json").write_text(json.dumps(part))
    return folder


def test_merged_replay_commands_point_at_the_merged_copies(tmp_path: Path) -> None:
    a, b = _folder(tmp_path, "a", "test_one"), _folder(tmp_path, "b", "test_two")
    out = tmp_path / "merged"
    merge_reports([b, a], out)
    index = json.loads((out / "index.json").read_text())
    assert [r["run"] for r in index["runs"]] == ["test_one", "test_two"]  # collection order
    for r in index["runs"]:
        path = Path(r["replay"].removeprefix("fracas replay "))
        assert path == (out / "replays" / f"{r['run']}.json").resolve() and path.is_file()
        assert str(out.resolve()) in (out / r["html"]).read_text()
    assert index["summary"]["orders"] == 4 and index["summary"]["retries_per_order"] == 0.5
    assert index["totals"]["violations"] == 2


def test_merging_overlapping_or_foreign_folders_says_why(tmp_path: Path) -> None:
    a, a2 = _folder(tmp_path, "a", "test_one"), _folder(tmp_path, "a2", "test_one")
    with pytest.raises(MergeError, match="'test_one' is in both"):
        merge_reports([a, a2], tmp_path / "m1")
    b = _folder(tmp_path, "b", "test_two", seed=7)
    with pytest.raises(MergeError, match="different seeds"):
        merge_reports([a, b], tmp_path / "m2")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MergeError, match="no report parts"):
        merge_reports([tmp_path / "empty"], tmp_path / "m3")


def test_fracas_report_merge_bad_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "merge", str(tmp_path / "nope"), "--out", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err.strip() == f"fracas: {tmp_path / 'nope'}: no such report folder"


# -- the whole thing, on real topologies ---------------------------------------------
SUITE = textwrap.dedent(
    """
    from hypothesis import given, strategies as st

    def test_happy(fracas):
        fracas.run(fracas.orders(2), []).assert_consistent()

    def test_declined(fracas):
        fracas.run(fracas.orders(2, ["declined"]), []).assert_consistent()

    def test_lost_capture(fracas):
        drop = {"kind": "drop", "target": "payment", "params": {
            "method": "POST", "path": "/payments", "nth": [1], "phase": "after_commit",
            "times": 1}}
        fracas.run(fracas.orders(1), [{"fault": drop, "at": 0}]).assert_consistent()

    def test_property(fracas, fracas_slice):
        intents = st.lists(st.sampled_from(["ok", "declined", "out_of_stock"]), min_size=1, max_size=3)

        @given(intents=intents, world=st.integers(0, 10**6))
        def search(intents, world):
            plans = fracas.orders(len(intents), intents)
            fracas.run(plans, [], seed=world).assert_consistent()

        fracas_slice.apply(search)()
    """
)


def _suite(tmp: Path, report: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp / "test_suite.py"), "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp), "--hypothesis-profile", "ci", "--fracas-seed", "3",
         "--fracas-slices", "3", "--fracas-report", str(report), *args],
        cwd=tmp, capture_output=True, text=True, timeout=600,
    )


def _runs(report: Path) -> dict[str, tuple[object, ...]]:
    """Each run: its verdict, its test's outcome, and what it ran (orders and faults)."""
    index = json.loads((report / "index.json").read_text())
    out = {}
    for r in index["runs"]:
        replay = json.loads((report / r["json"]).read_text())["replay"]
        out[r["run"]] = (r["ok"], r["violations"], tuple(r["rules"]), r["test"]["outcome"],
                         json.dumps([replay["seed"], replay["orders"]], sort_keys=True),
                         json.dumps(replay["schedule"], sort_keys=True))
    return out


@pytest.mark.slow
def test_merged_shards_equal_one_unsharded_run(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    whole = _suite(tmp_path, tmp_path / "whole", "-n", "2")  # and xdist's merge, at once
    assert whole.returncode == 0, whole.stdout[-3000:] + whole.stderr[-2000:]
    shards = [_suite(tmp_path, tmp_path / f"shard{k}", "--shard", f"{k}/2") for k in (1, 2)]
    for s in shards:
        assert s.returncode == 0, s.stdout[-3000:] + s.stderr[-2000:]
    assert main(["report", "merge", str(tmp_path / "shard1"), str(tmp_path / "shard2"),
                 "--out", str(tmp_path / "merged")]) == 0
    one, two = _runs(tmp_path / "shard1"), _runs(tmp_path / "shard2")
    assert one and two and not set(one) & set(two)  # both shards ran something, apart
    merged, unsharded = _runs(tmp_path / "merged"), _runs(tmp_path / "whole")
    assert len(unsharded) >= 3 + 3  # three tests, and three slices of at least one run each
    assert merged == unsharded
    order = [r["run"] for r in json.loads((tmp_path / "merged" / "index.json").read_text())["runs"]]
    assert order == [r["run"] for r in json.loads((tmp_path / "whole" / "index.json").read_text())["runs"]]
    # The slices drew different examples: no two runs of the property ran the same orders
    # (the simplest example, which every seed tries first, runs in the first slice only).
    plans = [v[4] for k, v in unsharded.items() if k.startswith("test_property")]
    assert len(plans) >= 4 and len(set(plans)) == len(plans), plans


def test_the_time_scale_stretches_settling_and_liveness_not_the_replay(
    start_topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fracas.harness.run.runner import RunOptions, run
    from fracas.harness.run.workload import orders

    monkeypatch.setenv("FRACAS_TIME_SCALE", "3")
    topo = start_topology()
    result = run(topo, orders(1), [], RunOptions(settle_seconds=5))
    assert result.ok
    assert result.snapshot.settle.settle_seconds == 15  # what liveness allows
    assert result.replay_json()["settle_seconds"] == 5  # a replay scales on its own machine


def test_fracas_run_passes_workers_and_shard_to_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    import fracas.harness.front.preflight

    seen: list[tuple[list[str], list[Any]]] = []
    monkeypatch.setattr(fracas.harness.front.preflight, "preflight", lambda *a: None)
    monkeypatch.setattr(pytest, "main", lambda argv, plugins: seen.append((argv, plugins)) or 0)
    assert main(["run", "-n", "auto", "--shard", "2/3", "--slices", "6", "--time-scale", "2"]) == 0
    argv, (handed,) = seen[0]
    assert "-n auto" in " ".join(argv)
    spec = handed.spec  # the session takes the resolved spec, not flags to parse again
    assert (str(spec.shard), spec.slices, spec.time_scale) == ("2/3", 6, 2.0)
