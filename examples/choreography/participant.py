"""One participant of the bundled choreographed order saga, as a command line.

    python participant.py ROLE [--bug NAME ...]

ROLE is customer, payment, inventory, shipping, notify or orders (the order view). It
reads the contract's environment (docs/choreography.md): FRACAS_BROKER_URL, FRACAS_STREAM,
FRACAS_CONSUMER, FRACAS_LISTEN, FRACAS_STATE_DIR, FRACAS_ACK_WAIT and the services'
FRACAS_<SERVICE>_URL. Correct by default; each --bug plants one defect (runtime.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling modules

from roles import HANDLERS  # noqa: E402
from runtime import BUGS, Participant  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=[*HANDLERS, "orders"])
    parser.add_argument("--bug", action="append", default=[], choices=BUGS,
                        help="plant a defect (repeatable)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(Participant(args.role, frozenset(args.bug)).run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
