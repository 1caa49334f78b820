"""Re-check a recorded run offline: ``python -m fracas.harness.report RUN.json [--html OUT]``.

RUN.json is a JSON report written with its snapshot (``writer.write_run`` does) or a bare
``Snapshot.to_json()``. The verdict is recomputed from the ledgers, so a rule fixed or added
since the run is applied to old evidence. Exit status 1 when the run is inconsistent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fracas.harness.checkers.engine import check
from fracas.harness.checkers.view import CheckConfig, View
from fracas.harness.model.snapshot import Snapshot
from fracas.harness.report import failure_text, render_html, write_html


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m fracas.harness.report", description=__doc__.split("\n")[0]
    )
    p.add_argument("run", type=Path, help="a JSON report with its snapshot, or a snapshot")
    p.add_argument("--html", type=Path, help="also write the HTML report here")
    p.add_argument(
        "--needs-attention", type=int, default=0, help="tolerated needs_attention orders"
    )
    p.add_argument(
        "--blocked-notice", choices=("required", "optional", "forbidden"), default="required"
    )
    a = p.parse_args(argv)
    raw = json.loads(a.run.read_text())
    snap_raw = raw.get("snapshot") if "fracas_report" in raw else raw
    if not snap_raw:
        print(f"{a.run}: no snapshot in this report (write it with include_snapshot=True)")
        return 2
    snapshot = Snapshot.from_json(snap_raw)
    config = CheckConfig(
        needs_attention_tolerance=a.needs_attention,
        blocked_customer_notice=a.blocked_notice,
    )
    view = View(snapshot, config)
    result = check(snapshot, config, view=view)
    t0 = snapshot.history.t0 if snapshot.history is not None else None
    print(failure_text(result, t0))
    if a.html:
        write_html(a.html, render_html(result, view, title=a.run.stem))
        print(f"HTML report: {a.html}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
