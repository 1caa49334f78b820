"""What the property search draws: the mix of faults in generated workloads, by kind and by step.

    python bench/mix.py [--seeds 30] [--examples 20] [--max-faults 2] [--max-orders 5]

Nothing runs: each seed is a Hypothesis search of ``--examples`` examples over
``workloads()`` (the scenario's own arguments, the naive orchestrator's capabilities,
generation only, as at the ``dev`` profile); the tables count the faults drawn and the
orders' intents, with how many seeds drew no order of an intent. The
order of the strategies' lists is their weight (Hypothesis favours a list's first and
last elements), so this is how a change to them is measured.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fracas.harness.faults import fault_kinds  # noqa: E402
from fracas.harness.run.schedule import ScheduledFault  # noqa: E402
from fracas.harness.run.workload import INTENTS  # noqa: E402
from fracas.harness.search.strategies import Workload, workloads  # noqa: E402

NAIVE = frozenset({"crash", "restart", "pause", "review", "advance_clock"})


def label(entry: ScheduledFault) -> tuple[str, str, str]:
    """(family or kind, step path, phase) of one scheduled fault."""
    fault, when = entry.fault, entry.when
    kind, params = fault["kind"], fault["params"]
    family = fault_kinds()[kind].family
    if family == "http":
        what = f"http {kind}"
    elif fault["target"] == "orchestrator":
        what = f"orchestrator {kind}"
    else:
        what = family
    path = str(params.get("path") or (when.path if when else "(time)"))
    if path.startswith("/customers/"):
        path = "/customers/*"
    phase = str(params.get("phase") or (when.phase if when else "-"))
    return what, path, phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--max-faults", type=int, default=2)
    parser.add_argument("--max-orders", type=int, default=5)
    args = parser.parse_args()
    drawn: list[tuple[str, str, str]] = []
    intents: collections.Counter[str] = collections.Counter()
    missing: collections.Counter[str] = collections.Counter()  # seeds with none of it
    held: list[set[str]] = []  # per seed, the intents its examples drew
    examples = 0
    for seed in range(args.seeds):
        held.append(set())

        @settings(max_examples=args.examples, database=None, deadline=None,
                  phases=[Phase.generate])  # fmt: skip
        @given(data=st.data())
        def search(data: st.DataObject) -> None:
            nonlocal examples
            w: Workload = data.draw(
                workloads(max_orders=args.max_orders, max_faults=args.max_faults,
                          capabilities=NAIVE)  # fmt: skip
            )
            examples += 1
            drawn.extend(label(e) for e in w.schedule.faults)
            intents.update(p.intent for p in w.plans)
            held[-1].update(p.intent for p in w.plans)

        search._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
        search()
        missing.update(i for i in INTENTS if i not in held[-1])
    total = len(drawn)
    print(f"{total} faults in {examples} examples ({args.seeds} seeds of {args.examples})")
    for title, key in (("what", lambda d: d[0]), ("step", lambda d: d[1]),
                       ("what at step, phase", lambda d: " ".join(d))):  # fmt: skip
        counts = collections.Counter(key(d) for d in drawn)
        print(f"\n{title} | faults | share\n--- | --- | ---")
        for name, n in counts.most_common(25 if title.startswith("what at") else None):
            print(f"{name} | {n} | {100 * n / total:.0f}%")
    orders = sum(intents.values())
    print("\nintent | orders | share | seeds with no such order\n--- | --- | --- | ---")
    for name, n in intents.most_common():
        print(f"{name} | {n} | {100 * n / orders:.0f}% | {missing[name]}")


if __name__ == "__main__":
    main()
