"""The ``fracas`` command line. Subcommands are added as the harness grows.

- ``fracas serve NAME --port P --state-dir D --seed S``: run one fake in this process.
- ``fracas up [--state-dir D] [--seed S] [--base-port P]``: run all five fakes, print
  their URLs, stop them cleanly on Ctrl-C or SIGTERM.

Bad input exits with status 2 and a message naming the argument, never a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType


def build_parser() -> argparse.ArgumentParser:
    from fakes.__main__ import add_serve_arguments

    parser = argparse.ArgumentParser(prog="fracas", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run one fake service in the foreground")
    add_serve_arguments(serve)

    up = sub.add_parser("up", help="run all five fake services until Ctrl-C")
    up.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".fracas/up"),
        help="ledgers go here (default .fracas/up)",
    )
    up.add_argument("--seed", type=_nonneg_int, default=0, help="world seed (default 0)")
    up.add_argument(
        "--base-port",
        type=_port,
        default=None,
        help="crm gets this port, the others the next four (default: any free ports)",
    )
    return parser


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _port(text: str) -> int:
    value = _nonneg_int(text)
    if not 0 < value <= 65531:
        raise argparse.ArgumentTypeError(f"expected 1..65531, got {value}")
    return value


def _check_state_dir(parser: argparse.ArgumentParser, path: Path) -> None:
    if path.exists() and not path.is_dir():
        parser.error(f"argument --state-dir: {path} exists and is not a directory")


def _serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from harness.net import is_listening

    _check_state_dir(parser, args.state_dir)
    if is_listening(args.port):
        parser.error(f"argument --port: port {args.port} is already in use on 127.0.0.1")
    from fakes.server import serve

    serve(args.name, args.port, args.state_dir, args.seed, args.log_level)
    return 0


def _up(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from harness.net import is_listening
    from harness.procs import ProcessFailed
    from harness.services import SERVICES, FakeProcess, spawn_fake

    _check_state_dir(parser, args.state_dir)
    ports: list[int | None] = [None] * len(SERVICES)
    if args.base_port is not None:
        ports = [args.base_port + i for i in range(len(SERVICES))]
        busy = [p for p in ports if p is not None and is_listening(p)]
        if busy:
            parser.error(f"argument --base-port: port {busy[0]} is already in use on 127.0.0.1")

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    fakes: list[FakeProcess] = []
    try:
        for name, port in zip(SERVICES, ports, strict=True):
            fakes.append(spawn_fake(name, args.state_dir / name, args.seed, port))
        # After spawning: the process registry installs its own (kill-everything) handlers.
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        for fake in fakes:
            fake.wait_healthy(30.0)
        for fake in fakes:
            print(f"{fake.name:<10} {fake.url}", flush=True)
        print(f"fracas: {len(fakes)} fakes up (seed {args.seed}); Ctrl-C to stop", flush=True)
        while not stop.wait(0.5):
            dead = [f for f in fakes if not f.process.alive]
            if dead:
                print(
                    f"fracas: {dead[0].name} exited; see {dead[0].process.log_path}",
                    file=sys.stderr,
                )
                return 1
        return 0
    except ProcessFailed as exc:
        print(f"fracas: {exc}", file=sys.stderr)
        return 1
    finally:
        for fake in fakes:
            fake.stop()
        print("fracas: stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(parser, args)
    if args.command == "up":
        return _up(parser, args)
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
