"""How many examples and steps a minute the stateful scenario runs, per profile.

    python bench/stateful.py [--profile ci] [--orchestrator CMD]

Runs the state machine of scenarios/test_stateful.py under a Hypothesis profile against
the bundled orchestrator (or CMD) and prints examples and engine actions (the steps
that did something: submit, arm, crash, heal, settle...) per minute, and the violations found (a correct orchestrator: none).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import settings  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402

from fracas.harness.adapters import resolve_spec  # noqa: E402
from fracas.harness.run.scenario import Fracas  # noqa: E402
from fracas.harness.run.topology import Topology, TopologyConfig  # noqa: E402
from fracas.harness.search import profiles as _profiles  # noqa: E402, F401 - registers ci, dev, soak
from fracas.harness.search.stateful import machine_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ci", choices=("ci", "dev", "soak"))
    parser.add_argument("--orchestrator", default=None)
    args = parser.parse_args()
    settings.load_profile(args.profile)
    with tempfile.TemporaryDirectory() as tmp:
        config = TopologyConfig(run_dir=Path(tmp), orchestrator=resolve_spec(args.orchestrator))
        with Topology.start(config) as topo:
            fracas = Fracas(topo, report_dir=Path(tmp), replay_dir=Path(tmp) / "replays")
            base = machine_for(fracas)
            counts = {"examples": 0, "actions": 0}

            class Counted(base):  # type: ignore[valid-type, misc]
                def __init__(self) -> None:
                    super().__init__()
                    counts["examples"] += 1

                def teardown(self) -> None:
                    counts["actions"] += len(self.run.steps)
                    super().teardown()

            t = time.monotonic()
            error = None
            try:
                run_state_machine_as_test(Counted, settings=settings())
            except AssertionError as exc:
                error = str(exc)
            minutes = (time.monotonic() - t) / 60
    print(f"profile {args.profile}: {minutes * 60:.1f} s")
    for key, value in counts.items():
        print(f"  {key:<9} {value:>5}  {value / minutes:7.1f}/min")
    print(f"  verdict   {error or 'consistent in every example'}")


if __name__ == "__main__":
    main()
