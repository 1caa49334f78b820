"""One participant of the bundled hybrid saga, as a command line.

    python participant.py notify [--bug NAME ...]

It runs the bundled choreography's consume loop (examples/choreography/runtime.py:
dedup, effect, outbox, publish, ack; the same ``--bug`` defects) with the handlers of
outcomes.py, on the events the orchestrator publishes. Same environment as a
choreography's participant (docs/choreography.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "choreography")]  # its modules, then the loop's

import roles  # noqa: E402
from outcomes import HANDLERS  # noqa: E402
from runtime import BUGS, Participant  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=list(HANDLERS))
    parser.add_argument("--bug", action="append", default=[], choices=BUGS,
                        help="plant a defect (repeatable)")
    args = parser.parse_args(argv)
    roles.HANDLERS.clear()  # the runtime reads this table: the hybrid's roles only
    roles.HANDLERS.update(HANDLERS)
    try:
        asyncio.run(Participant(args.role, frozenset(args.bug)).run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
