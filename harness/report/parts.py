"""A report folder's index, built one way: from *parts*.

Every writer (``writer.write_reports`` for a plain session or ``fracas replay``, each
xdist worker, each shard) puts its per-run JSON and HTML files in the report folder and
describes them in one part, ``parts/<id>.json``: the index rows of its runs, their fault
coverage and their resilience numbers. ``build_index`` turns parts into ``index.json``
and ``index.html``, whoever calls it: a session for its own part, the xdist controller
once its workers are done, or ``fracas report merge DIR...`` for folders that came from
other machines. So an index reads the same however the suite was split.

Rows carry their test's position in the whole (unsharded) collection, so a merged index
lists runs in the order one unsharded run would have.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fracas.harness.report.html import CSS
from fracas.harness.report.index import index_html, index_json
from fracas.harness.report.json_report import write_json
from fracas.harness.report.outcome import SessionInfo

PARTS = "parts"
JSON = dict[str, Any]


class MergeError(ValueError):
    """Report folders that cannot be merged; the message names the folder and why."""


def _stale(directory: Path) -> set[Path]:
    """Per-run files an earlier session wrote here: those the last ``index.json`` lists,
    and any JSON report (``fracas_report`` key) with its HTML and screenshot, for folders
    written before the index kept a list. Nothing else is touched."""
    out: set[Path] = set()
    try:
        old = json.loads((directory / "index.json").read_text())
        for r in old.get("runs") or []:
            out |= {directory / Path(str(r[k])).name for k in ("html", "json") if r.get(k)}
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    for j in directory.glob("*.json"):
        if j.name == "index.json":
            continue
        try:
            with j.open() as fh:
                head = fh.read(64)
        except OSError:
            continue
        if '"fracas_report"' in head:
            out |= {j, j.with_suffix(".html"), j.with_suffix(".png")}
    return {p for p in out if p.is_file()}


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
