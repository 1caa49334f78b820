"""``python -m fracas.fakes NAME --port P --state-dir D --seed S``: run one fake service."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fracas.fakes.contract import BUILTIN_SERVICES

SERVICE_NAMES = BUILTIN_SERVICES


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of one fake, shared with ``fracas serve``."""
    parser.add_argument("name", choices=SERVICE_NAMES, help="which fake service")
    parser.add_argument("--port", type=_port, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument(
        "--state-dir", type=Path, required=True, help="directory for the SQLite ledger"
    )
    parser.add_argument("--seed", type=_seed, default=0, help="world seed (default 0)")
    parser.add_argument(
        "--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug")
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"expected 1..65535, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected 0..2**63-1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fracas.fakes", description=__doc__)
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    from fracas.fakes.server import serve

    serve(args.name, args.port, args.state_dir, args.seed, args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
