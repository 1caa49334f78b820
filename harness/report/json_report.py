"""The machine-readable report: verdict, witnesses, summary and the caller's replay data."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fracas.harness.checkers.engine import CheckResult
from fracas.harness.model.snapshot import Snapshot

JSON = dict[str, Any]
FORMAT = 1


def build_report(
    result: CheckResult,
    snapshot: Snapshot | None = None,
    *,
    summary: Mapping[str, Any] | None = None,
    replay: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    include_snapshot: bool = False,
) -> JSON:
    """``replay`` is opaque here: whatever the runtime needs to run the case again (seed,
    fault schedule, workload). ``include_snapshot`` embeds ledgers and history so the verdict
    can be recomputed offline (``Snapshot.from_json(report["snapshot"])``)."""
    t0 = None
    if snapshot is not None and snapshot.history is not None:
        t0 = snapshot.history.t0
    return {
        "fracas_report": FORMAT,
        "generated_at": time.time(),
        "ok": result.ok,
        "t0": t0,
        "meta": dict(meta or {}),
        "verdict": result.to_json(),
        "summary": dict(summary) if summary is not None else None,
        "replay": dict(replay) if replay is not None else None,
        "snapshot": snapshot.to_json() if (include_snapshot and snapshot is not None) else None,
    }


def write_json(path: str | Path, report: Mapping[str, Any]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(report, indent=1, sort_keys=False, default=str))
    return p
