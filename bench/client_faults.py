"""Which client faults a finished run drew, and what the orchestrator answered them,
read from its report folder (issue 22: a soak that never drew them proves nothing).

    python bench/client_faults.py fracas-report          # after fracas run --profile soak

From ``index.json``: runs, violations and the faults applied, by client kind. From each
run's JSON (its history): the inputs those faults sent, by kind, and their answers by
status code, with how many answers the history holds whole (status and body). A kind
may be drawn and send nothing (a review fault on an order that never awaited review).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

CLIENT_OPS = ("client_review", "client_submit")
LABEL = "the client input "  # how a client fault's label starts (model/history.py)


def drawn(index: dict[str, Any]) -> tuple[int, Counter[str]]:
    """Runs with a client fault, and the client faults applied by kind."""
    kinds: Counter[str] = Counter()
    runs = 0
    for row in index["runs"]:
        mine = [f[len(LABEL):].split()[0] for f in row["faults"] if f.startswith(LABEL)]
        runs += bool(mine)
        kinds.update(mine)
    return runs, kinds


def sent(folder: Path) -> tuple[Counter[str], Counter[str], int]:
    """Inputs sent by kind, their answers by status code, and answers with a body."""
    kinds: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    whole = 0
    for path in sorted(folder.glob("*.json")):
        if path.name == "index.json":
            continue
        history = ((json.loads(path.read_text()).get("snapshot") or {}).get("history")) or {}
        events = history.get("events") or []
        done = {e["op_id"]: e["data"] for e in events if e["type"] in ("ok", "fail", "unknown")}
        for e in events:
            if e["type"] == "invoke" and e["op"] in CLIENT_OPS:
                kinds[str(e["data"].get("kind"))] += 1
                answer = done.get(e["op_id"], {})
                codes[str(answer.get("status_code") or "none")] += 1
                whole += bool(answer.get("status_code") and answer.get("body"))
    return kinds, codes, whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a fracas report folder (index.json)")
    args = parser.parse_args()
    index = json.loads((args.report / "index.json").read_text())
    totals = index["totals"]
    runs, kinds = drawn(index)
    applied = sum(len(r["faults"]) for r in index["runs"])
    print(f"runs {totals['runs']}, violations {totals['violations']}, "
          f"pytest failures {totals['pytest_failures']}")  # fmt: skip
    print(f"client faults drawn {sum(kinds.values())} of {applied} faults, in {runs} runs; "
          f"runs marked as races {sum(bool(r.get('races')) for r in index['runs'])}")  # fmt: skip
    for kind, n in sorted(kinds.items()):
        print(f"  {kind:<16} {n}")
    inputs, codes, whole = sent(args.report)
    print(f"inputs sent {sum(inputs.values())}; answers {dict(sorted(codes.items()))}; "
          f"whole in the history (status and body) {whole}")  # fmt: skip
    for kind, n in sorted(inputs.items()):
        print(f"  {kind:<16} {n}")


if __name__ == "__main__":
    main()
