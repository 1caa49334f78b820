"""One report from many writers: xdist workers, shards on other machines, or both.

Every writer (a plain pytest session, each xdist worker, each shard) puts its per-run
JSON and HTML files in the report folder and describes them in one *part*,
``parts/<id>.json``: the index rows of its runs, their fault coverage and their
resilience numbers. The index is always built from parts, by one function, whoever
calls it: the session itself, the xdist controller once its workers are done, or
``fracas report merge DIR...`` for folders that came from other machines. So an index
reads the same however the suite was split.

Rows carry their test's position in the whole (unsharded) collection, so a merged index
lists runs in the order one unsharded run would have.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fracas.harness.checkers.summary import summarize
from fracas.harness.report.html import CSS
from fracas.harness.report.index import index_html, index_json, run_row
from fracas.harness.report.json_report import write_json
from fracas.harness.report.outcome import SessionInfo, TestOutcome
from fracas.harness.report.writer import RunLike, _stale, stem_of, write_run
from fracas.harness.run.coverage import CoverageMap

PARTS = "parts"
REPLAYS = "replays"
JSON = dict[str, Any]


class MergeError(ValueError):
    """Report folders that cannot be merged; the message names the folder and why."""


def suite_numbers(summary: Mapping[str, Any], faults: int) -> JSON:
    """The part of a run's resilience summary that adds up over a suite."""
    req = summary.get("requests") or {}
    comp = summary.get("compensations") or {}
    return {
        "orders": int(summary.get("orders") or 0),
        "outcomes": dict(summary.get("outcomes") or {}),
        "faults": faults,
        "requests": int(req.get("total") or 0),
        "per_order_mean": float(req.get("per_order_mean") or 0.0),
        "retries_per_order_mean": float(req.get("retries_per_order_mean") or 0.0),
        "orders_compensated": int(comp.get("orders_compensated") or 0),
    }


def write_part(
    directory: Path,
    part_id: str,
    results: Sequence[tuple[str, RunLike]],
    *,
    outcomes: Mapping[int, TestOutcome] | None = None,
    session: SessionInfo | None = None,
    positions: Mapping[int, tuple[int, int]] | None = None,
) -> Path:
    """Write each run's files and ``parts/<part_id>.json``. ``positions``: by index in
    ``results``, (the test's place in the whole collection, the run's place in its test)."""
    directory.mkdir(parents=True, exist_ok=True)
    outcomes = outcomes or {}
    positions = positions or {}
    rows: list[JSON] = []
    used: set[str] = set()
    for i, (name, run) in enumerate(results):
        stem, k = stem_of(name), 1
        while stem in used:  # the handle's names are unique; a direct caller's may not be
            k += 1
            stem = f"{stem_of(name)}-{k}"
        used.add(stem)
        j, h = write_run(directory, stem, run, outcome=outcomes.get(i))
        row = run_row(stem, run, outcomes.get(i), h.name, j.name)
        nemesis = getattr(run, "nemesis", None)
        applied = len(getattr(nemesis, "applied", ()) or ())
        row["summary"] = suite_numbers(summarize(run.snapshot), applied)
        row["position"] = list(positions.get(i, (1 << 30, i)))
        rows.append(row)
    coverage = CoverageMap.from_results([r for _, r in results]).to_json()  # type: ignore[misc]
    part = {
        "fracas_part": 1,
        "part": part_id,
        "session": (session or SessionInfo()).to_json(),
        "runs": rows,
        "coverage": coverage,
    }
    path = directory / PARTS / f"{stem_of(part_id)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(part, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)  # whole or not at all: a merge never reads half a part
    return path


def read_part(path: Path) -> JSON:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MergeError(f"{path}: not a readable fracas report part ({exc})") from None
    if not isinstance(data, dict) or data.get("fracas_part") != 1:
        raise MergeError(f"{path}: not a fracas report part (no fracas_part: 1)")
    return data


def merge_coverage(covs: Iterable[Mapping[str, Any]]) -> JSON:
    cells: dict[tuple[str, str, str, str], int] = {}
    steps: list[str] = []
    families: list[str] = []
    phases: list[str] = []
    for cov in covs:
        for axis, acc in (("steps", steps), ("families", families), ("phases", phases)):
            acc += [x for x in cov.get(axis) or [] if x not in acc]
        for c in cov.get("cells") or []:
            key = (str(c["step"]), str(c["family"]), str(c["phase"]), str(c["state"]))
            cells[key] = cells.get(key, 0) + int(c["hits"])
    return {
        "cells": [
            {"step": k[0], "family": k[1], "phase": k[2], "state": k[3], "hits": n}
            for k, n in sorted(cells.items())
        ],
        "steps": steps,
        "families": families,
        "phases": phases,
    }


def suite_summary(rows: Sequence[Mapping[str, Any]]) -> JSON:
    """The whole suite's resilience summary, from every run's numbers."""
    outcomes: dict[str, int] = {}
    orders = requests = faults = compensated = 0
    retries = 0.0
    for r in rows:
        s = r.get("summary") or {}
        n = int(s.get("orders") or 0)
        orders += n
        requests += int(s.get("requests") or 0)
        faults += int(s.get("faults") or 0)
        compensated += int(s.get("orders_compensated") or 0)
        retries += float(s.get("retries_per_order_mean") or 0.0) * n
        for k, v in (s.get("outcomes") or {}).items():
            outcomes[k] = outcomes.get(k, 0) + int(v)
    return {
        "orders": orders,
        "outcomes": dict(sorted(outcomes.items())),
        "faults_applied": faults,
        "requests": requests,
        "requests_per_order": round(requests / orders, 3) if orders else 0.0,
        "retries_per_order": round(retries / orders, 3) if orders else 0.0,
        "orders_compensated": compensated,
    }


def merge_sessions(sessions: Sequence[Mapping[str, Any]]) -> SessionInfo:
    """The parts' sessions as one: their common values, the earliest start."""
    def common(key: str) -> Any:
        values = [s.get(key) for s in sessions if s.get(key) not in (None, "")]
        distinct = list(dict.fromkeys(values))
        if len(distinct) == 1:
            return distinct[0]
        return " | ".join(str(v) for v in distinct) if distinct else None

    starts = [float(s["started"]) for s in sessions if s.get("started") is not None]
    seed = common("seed")
    return SessionInfo(
        orchestrator=str(common("orchestrator") or ""),
        seed=seed if isinstance(seed, int) or seed is None else None,
        profile=str(common("profile") or ""),
        fault_backend=str(common("fault_backend") or ""),
        started=min(starts) if starts else None,
    )


def build_index(directory: Path, parts: Sequence[Path]) -> Path:
    """``index.json`` and ``index.html`` from ``parts`` (in ``directory/parts``). Parts and
    per-run files an earlier session left here, and not named by ``parts``, are removed,
    so the folder shows this session only."""
    datas = [read_part(p) for p in parts]
    keep = {p.resolve() for p in parts}
    listed: set[Path] = set()
    rows: list[JSON] = []
    seeds = {d["session"].get("seed") for d in datas if d["session"].get("seed") is not None}
    if len(seeds) > 1:
        raise MergeError(
            f"the parts ran with different seeds ({', '.join(map(str, sorted(seeds)))}); "
            "a merged report is one suite run with one seed"
        )
    owner: dict[str, str] = {}
    for d in datas:
        for r in d["runs"]:
            if r["run"] in owner and owner[r["run"]] != d["part"]:
                raise MergeError(
                    f"run {r['run']!r} is in both {owner[r['run']]} and {d['part']}: the same "
                    "test ran twice (overlapping shards, or two suites' folders)"
                )
            owner[r["run"]] = d["part"]
            listed |= {directory / r["html"], directory / r["json"]}
            rows.append(r)
    rows.sort(key=lambda r: tuple(r.get("position") or (1 << 30, 0)))
    for p in (directory / PARTS).glob("*.json") if (directory / PARTS).is_dir() else ():
        if p.resolve() not in keep:
            p.unlink(missing_ok=True)
    for p in _stale(directory) - listed:
        p.unlink(missing_ok=True)
    session = merge_sessions([d["session"] for d in datas])
    data = index_json(rows, session, merge_coverage(d["coverage"] for d in datas))
    data["summary"] = suite_summary(rows)
    data["parts"] = sorted(p.name for p in parts)
    write_json(directory / "index.json", data)
    index = directory / "index.html"
    index.write_text(index_html(data, CSS), encoding="utf-8")
    return index


def _parts_of(directory: Path) -> list[Path]:
    """The parts a report folder's index was built from (all parts if it has no index)."""
    if not directory.is_dir():
        raise MergeError(f"{directory}: no such report folder")
    try:
        names = json.loads((directory / "index.json").read_text()).get("parts")
    except (OSError, ValueError, AttributeError):
        names = None
    if isinstance(names, list):
        found = [directory / PARTS / str(n) for n in names]
    else:
        found = sorted((directory / PARTS).glob("*.json"))
    if not found:
        raise MergeError(
            f"{directory}: no report parts (parts/*.json); is it a fracas run report folder?"
        )
    missing = [p for p in found if not p.is_file()]
    if missing:
        raise MergeError(f"{directory}: index.json lists {missing[0].name}, which is missing")
    return found


def _typed(path: Path) -> str:
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)


def merge_reports(dirs: Sequence[Path], out: Path) -> Path:
    """Copy every folder's runs, replay files and parts into ``out`` and index them as
    one session. Replay commands are rewritten to the copies in ``out/replays``."""
    if not dirs:
        raise MergeError("give at least one report folder to merge")
    sources = [(d, _parts_of(d)) for d in dirs]
    out.mkdir(parents=True, exist_ok=True)
    new_parts: list[Path] = []
    taken: dict[str, Path] = {}
    for n, (src, parts) in enumerate(sources, 1):
        same = src.resolve() == out.resolve()
        rewrites: list[tuple[str, str]] = []
        replays = src / REPLAYS
        if replays.is_dir() and not same:
            (out / REPLAYS).mkdir(exist_ok=True)
            for f in sorted(replays.glob("*.json")):
                shutil.copy2(f, out / REPLAYS / f.name)
            new = _typed(out / REPLAYS)
            rewrites = [(str(replays.resolve()), str((out / REPLAYS).resolve())),
                        (_typed(replays), new)]
        for part in parts:
            data = read_part(part)
            label = f"{n}-{data['part']}" if not same else str(data["part"])
            for r in data["runs"]:
                if r["run"] in taken and taken[r["run"]] != src:
                    raise MergeError(
                        f"run {r['run']!r} is in both {taken[r['run']]} and {src}: the same "
                        "test ran in two of them (overlapping shards?)"
                    )
                taken[r["run"]] = src
                if r.get("replay"):
                    r["replay"] = _rewrite(str(r["replay"]), rewrites)
                if not same:
                    for key in ("html", "json"):
                        _copy_rewritten(src / r[key], out / r[key], rewrites)
            data["part"] = label
            dest = out / PARTS / f"{stem_of(label)}.json"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
            new_parts.append(dest)
    return build_index(out, new_parts)


def _rewrite(text: str, rewrites: Sequence[tuple[str, str]]) -> str:
    for old, new in rewrites:
        text = text.replace(old, new)
    return text


def _copy_rewritten(src: Path, dest: Path, rewrites: Sequence[tuple[str, str]]) -> None:
    if not src.is_file():
        raise MergeError(f"{src}: listed by its folder's report parts but missing")
    if rewrites:
        text = src.read_text(encoding="utf-8")
        dest.write_text(_rewrite(text, rewrites), encoding="utf-8")
    else:
        shutil.copy2(src, dest)
