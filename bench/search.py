"""How fast the property scenarios alone find each public planted bug, and how small they shrink it.

    .venv/bin/python bench/search.py [--bugs a,b] [--seeds 5] [--profile dev] [--replays 5] [--clean]
                           [--jobs 1] [--replay-seeds K] [--holdout] [--draw-holdout]

A third of the planted bugs is held out (bench/holdout.json: the seed, the names it was
drawn from, the drawn set): nobody tunes the search on them, so how well it finds bugs it
was never tuned on is measured, not assumed. By default the bench measures only the
tuning set; ``--holdout`` measures the held-out set, and its rows are marked "(held out)".
``--draw-holdout`` draws a new set with a fresh seed (after a held-out measurement, once
what it showed is fixed), prints the seed and writes the file.

For each bug of examples/naive_orchestrator.py, over N seeds (each the run's seed, so its coverage plan, and Hypothesis's): the examples
and seconds until the search first names the bug's rule (median, max; seconds count from
the start of `fracas run`, topology start-up included), the whole search's time
(shrinking included), the shrunk witness (orders, faults; the largest over the seeds),
whether that case replays with `fracas replay --times R` (the worst over the seeds),
searches that ended in Hypothesis's FlakyFailure, searches whose find did not reproduce
when Hypothesis replayed it (reported with its first witness, not shrunk), and
NemesisError endings. `--clean` adds a row for the naive orchestrator
with no bug, which must have no violation. The last line gives examples per minute.
``--jobs N`` runs N searches at once (each its own topology): faster on an idle machine,
but every figure then includes the others' load, so the table says how many ran at once.

``--choreography`` measures the bundled choreography's planted defects instead
(examples/choreography, each planted in every participant; no holdout yet): message
faults are drawn there. ``--clean`` then adds the correct choreography's row.
``--hybrid`` measures the bundled hybrid's (examples/hybrid: the bundled orchestrator
with ``--bug events-no-outbox``), and ``--clean`` the correct hybrid's row.

Targets (issue 9): each bug found within 60 s median at `dev`, median of all <= 20 s;
shrunk to <= 3 orders and <= 3 faults; replays 5/5; >= 60 examples a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import statistics
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fracas.harness.search.planted import (  # noqa: E402
    CHOREO_RULES,
    HYBRID_RULES,
    RULES,
    CannotSearch,
    Search,
    check_runnable,
    prepare_choreography,
    prepare_hybrid,
    replay,
    search,
    stop_all,
)

HOLDOUT = Path(__file__).resolve().parent / "holdout.json"


def held_out() -> list[str]:
    """The held-out bugs, checked against the draw the file records: a hand-edited set
    would no longer be the random third it claims to be."""
    data = json.loads(HOLDOUT.read_text())
    drawn = draw(int(data["seed"]), data["bugs"])
    if drawn != data["held_out"]:
        sys.exit(f"bench/search.py: {HOLDOUT} holds {data['held_out']}, its seed draws {drawn}")
    return sorted({*drawn, *data.get("held_out_by_hand", [])})  # recorded as such, not drawn


def draw(seed: int, bugs: list[str]) -> list[str]:
    return sorted(random.Random(seed).sample(sorted(bugs), len(bugs) // 3))


def draw_holdout() -> None:
    """A fresh holdout over every planted bug known now, written for the next measurement."""
    seed, bugs = secrets.randbelow(2**32), sorted(RULES)
    data = json.loads(HOLDOUT.read_text())
    data.update(seed=seed, bugs=bugs, held_out=draw(seed, bugs))
    data.pop("held_out_by_hand", None)  # every bug is in the draw now
    data.pop("by_hand_why", None)
    HOLDOUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"holdout seed {seed}: {', '.join(data['held_out'])} (written to {HOLDOUT})")


def fmt(values: list[float], digits: int = 0) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.{digits}f} / {max(values):.{digits}f}"


def row(
    bug: str, runs: list[Search], replays: int, base: Path, replay_seeds: int | None = None,
    setup: Any = None,
) -> tuple[str, list[float]]:
    found = [s for s in runs if s.first is not None]
    examples = [float(s.first[0]) for s in found if s.first is not None]
    seconds = [s.seconds_to_find for s in found if s.seconds_to_find is not None]
    shrunk = [s.shrunk for s in found if s.shrunk is not None]
    size = f"{max(x.orders for x in shrunk)}, {max(x.faults for x in shrunk)}" if shrunk else "-"
    rules = ",".join(sorted({r for x in shrunk for r in x.rules})) or "-"
    worst = "-"
    if replays and shrunk:
        checked = shrunk[:replay_seeds]
        counts = [replay((bug,), x, base / f"replay-{i}", replays, setup=setup)
                  for i, x in enumerate(checked)]  # fmt: skip
        worst = f"{min(counts)}/{replays}" + (
            f" ({len(checked)} of {len(shrunk)} seeds)" if len(checked) < len(shrunk) else ""
        )
    flaky = sum(s.flaky for s in runs)
    unshrunk = sum(s.unshrunk for s in runs)
    nemesis = sum(s.nemesis_error for s in runs)
    cells = [
        bug, f"{len(found)}/{len(runs)}", fmt(examples), fmt(seconds, 1),
        fmt([s.wall for s in runs], 0), size, rules, worst, str(flaky), str(unshrunk), str(nemesis),
    ]  # fmt: skip
    # A search that never found the bug counts as its whole time, for the median of all.
    to_find = [s.seconds_to_find if s.seconds_to_find is not None else s.wall for s in runs]
    return " | ".join(cells), to_find


def steady(runs: list[Search]) -> float:
    """Examples a minute while examples run: a search that finds its bug at once spends
    most of its wall time starting up, so the overall rate says little about the runs."""
    spans = [
        (len(s.examples), s.examples[-1].t0 + s.examples[-1].seconds - s.examples[0].t0)
        for s in runs
        if len(s.examples) > 1
    ]
    seconds = sum(span for _, span in spans)
    return 60 * sum(n for n, _ in spans) / seconds if seconds > 0 else 0.0


def _stop(signum: int, _frame: Any) -> None:
    """Ctrl-C or a kill: the searches run in sessions of their own, out of its reach, so
    each is told to stop, and the bench ends at once. Raised as SystemExit, the exit
    waited for the pool's threads, which waited for each search's teardown and then
    started the searches still queued (a 25-search bench ran on after SIGTERM; a CI run
    took more than 60 s to end one)."""
    stop_all()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bugs",
        default=None,
        help="comma-separated (default: the tuning set, every bug not held out)",
    )
    parser.add_argument("--holdout", action="store_true", help="measure the held-out bugs")
    parser.add_argument(
        "--draw-holdout",
        action="store_true",
        help="draw a new held-out third with a fresh seed, and stop",
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--profile", default="dev", choices=("ci", "dev", "soak"))
    parser.add_argument("--replays", type=int, default=5, help="fracas replay --times (0: skip)")
    parser.add_argument("--timeout", type=float, default=900.0, help="per search, seconds")
    parser.add_argument("--clean", action="store_true", help="also the naive with no bug")
    parser.add_argument("--keep", type=Path, default=None, help="keep run directories here")
    parser.add_argument(
        "--replay-seeds",
        type=int,
        default=None,
        help="replay the shrunk case of only the first K seeds that found it",
    )
    parser.add_argument("--jobs", type=int, default=1, help="searches at once (default 1)")
    parser.add_argument(
        "--choreography", action="store_true",
        help="the bundled choreography's planted defects (examples/choreography), each in "
             "every participant, instead of the naive orchestrator's",
    )  # fmt: skip
    parser.add_argument(
        "--hybrid", action="store_true",
        help="the bundled hybrid's planted defect (examples/hybrid, the bundled "
             "orchestrator with --bug) instead of the naive orchestrator's",
    )  # fmt: skip
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.draw_holdout:
        return draw_holdout()
    if args.choreography and args.hybrid:
        parser.error("--choreography and --hybrid: pick one")
    hidden = [] if args.choreography or args.hybrid else held_out()
    known = CHOREO_RULES if args.choreography else HYBRID_RULES if args.hybrid else RULES
    setup = prepare_choreography if args.choreography else prepare_hybrid if args.hybrid else None
    if args.bugs is not None:
        bugs = [b for b in args.bugs.split(",") if b]
    else:
        bugs = hidden if args.holdout else [b for b in known if b not in hidden]
    unknown = sorted(set(bugs) - set(known))
    if unknown:
        parser.error(f"argument --bugs: unknown {unknown}; expected some of {list(known)}")
    try:
        check_runnable()
    except CannotSearch as exc:
        sys.exit(f"bench/search.py: {exc}")
    base = args.keep or Path(tempfile.mkdtemp(prefix="fracas-bench-search-"))
    print(
        f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"{args.jobs} search(es) at once; profile {args.profile}",
        flush=True,
    )
    head = (
        "bug | found | examples to find (median / max) | s to find | s whole search | "
        "shrunk (orders, faults) | rules | replay | Flaky | not shrunk | NemesisError"
    )
    print(head)
    print(" | ".join("---" for _ in head.split(" | ")))
    pool = ThreadPoolExecutor(max(1, args.jobs))
    planned: dict[str, list[Future[Search]]] = {
        bug: [pool.submit(search, (bug,) if bug else (), base / (bug or "none") / f"seed-{seed}",
                          seed, args.profile, timeout=args.timeout, setup=setup)
              for seed in range(args.seeds)]
        for bug in [*bugs, *([""] if args.clean else [])]
    }  # fmt: skip
    all_runs: list[Search] = []
    medians: list[float] = []
    for bug, futures in planned.items():
        runs = [f.result() for f in futures]
        all_runs += runs
        if not bug:
            bad = sum(s.violations for s in runs)
            print(
                f"(no bug) | {bad} violations over {sum(len(s.examples) for s in runs)} "
                f"examples | flaky {sum(s.flaky for s in runs)} | NemesisError "
                f"{sum(s.nemesis_error for s in runs)} | {steady(runs):.0f} examples/min "
                "from the first example's start to the last one's end (no start-up)",
                flush=True,
            )
            continue
        line, to_find = row(bug, runs, args.replays, base / bug, args.replay_seeds, setup)
        line = line.replace(bug, f"{bug} (held out)", 1) if bug in hidden else line
        medians.append(statistics.median(to_find))
        print(line, flush=True)
    pool.shutdown()
    examples = sum(len(s.examples) for s in all_runs)
    minutes = sum(s.wall for s in all_runs) / 60
    if medians:
        print(f"median over bugs of the median seconds to find: {statistics.median(medians):.1f}")
    print(
        f"{examples} examples in {minutes:.1f} min of search: {examples / minutes:.0f}/min "
        f"(profile {args.profile}, {args.jobs} at once; load after: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}); run directories in {base}"
    )


if __name__ == "__main__":
    main()
