"""The ``fracas`` commands' argument parsers, one function per command.

The orchestrator and run options come from the one table (``front.options``); what is
declared here belongs to a single command (``replay``'s FILE, ``up``'s ``--state-dir``)
or is pytest's own option offered under ``fracas run`` (``-k``, ``-n``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fracas.harness.front.options import add_to_argparse, environment_help, for_command

RUN_USAGE = "fracas run [options] [PATH ...] [pytest options] [-- PYTEST_ARGS ...]"


def build_parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and each command's (whose usage an error there prints)."""
    from fracas.harness.kit.version import fracas_version

    parser = argparse.ArgumentParser(prog="fracas", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"fracas {fracas_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = {
        "run": _run(sub),
        "replay": _replay(sub),
        "up": _up(sub),
        "report": _report(sub),
        "serve": _serve(sub),
    }
    return parser, commands


_DESCRIPTION = "The fracas command line."


def _run(sub: Any) -> argparse.ArgumentParser:
    run: argparse.ArgumentParser = sub.add_parser(
        "run",
        help="run the scenario suite and write its report",
        usage=RUN_USAGE,
        allow_abbrev=False,
        description="Run the scenario suite against the orchestrator under test, with JSON "
        "and HTML reports and replay files in --report. Any option fracas run does not "
        "know goes to pytest (-x, --lf, --pdb, -p NAME, --maxfail N), and so does "
        "everything after --.",
        epilog=environment_help(for_command("run")),
    )
    add_to_argparse(run, "run")
    run.add_argument("-k", dest="keyword", default=None, metavar="EXPR",
                     help="only scenarios matching this (pytest's -k)")  # fmt: skip
    run.add_argument("paths", type=Path, nargs="*", metavar="PATH",
                     help="scenario files or folders to run, instead of the bundled suite")  # fmt: skip
    run.add_argument("--bundled", action="store_true",
                     help="run the bundled scenario suite too (the default when no PATH is given)")  # fmt: skip
    run.add_argument("-n", dest="workers", type=_workers, default=None, metavar="N",
                     help="run N topologies in parallel (pytest-xdist workers; 'auto': one "
                     "per CPU core)")  # fmt: skip
    return run


def _replay(sub: Any) -> argparse.ArgumentParser:
    replay: argparse.ArgumentParser = sub.add_parser(
        "replay",
        help="run a replay file again",
        allow_abbrev=False,
        description="Run a replay file's orders and faults again, against the orchestrator, "
        "fault backend and seed the file records (unless --orchestrator or --fault-backend "
        "override them), and say whether the recorded violations reproduced.",
        epilog="Only the options override the file. Without a recorded orchestrator "
        f"(an older file) the usual choice applies: {environment_help(for_command('replay'))}",
    )
    replay.add_argument("file", type=Path, help="a replay file written by a failing run")
    add_to_argparse(replay, "replay")
    replay.add_argument("--times", type=_positive_int, default=1,
                        help="run it this many times (default 1)")  # fmt: skip
    return replay


def _up(sub: Any) -> argparse.ArgumentParser:
    up: argparse.ArgumentParser = sub.add_parser(
        "up",
        help="start the whole topology until Ctrl-C",
        allow_abbrev=False,
        description="Start the fakes, the fault proxy and the orchestrator; print every URL.",
        epilog=environment_help(for_command("up")),
    )
    add_to_argparse(up, "up")
    up.add_argument("--state-dir", type=Path, default=Path(".fracas/up"),
                    help="state and logs go here (default .fracas/up)")  # fmt: skip
    up.add_argument("--fakes-only", action="store_true",
                    help="only the five fakes, no proxy and no orchestrator")  # fmt: skip
    up.add_argument("--base-port", type=_port, default=None,
                    help="with --fakes-only: crm gets this port, the others the next four")  # fmt: skip
    return up


def _report(sub: Any) -> argparse.ArgumentParser:
    report: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="work with report folders (merge)",
        allow_abbrev=False,
        description="Work with fracas report folders: merge DIR... [--out DIR] combines the "
        "folders of shards into one.",
    )
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    merge = report_sub.add_parser(
        "merge",
        help="merge report folders (from shards) into one",
        description="Merge the report folders of shards (fracas run --shard K/N on N "
        "machines) into one folder: one index, one coverage table, one resilience summary. "
        "Runs, their HTML and JSON, and replay files are copied; replay commands point at "
        "the copies.",
        epilog="Reads no environment variables.",
    )
    merge.add_argument("dirs", type=Path, nargs="+", metavar="DIR", help="report folders")
    merge.add_argument("--out", type=Path, default=Path("fracas-report"),
                       help="the merged folder (default fracas-report)")  # fmt: skip
    return report


def _serve(sub: Any) -> argparse.ArgumentParser:
    from fracas.fakes.__main__ import add_serve_arguments

    serve: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="run one fake service in the foreground",
        allow_abbrev=False,
        description="Run one fake service on 127.0.0.1 until Ctrl-C; prints where it listens.",
        epilog="Reads no environment variables and no pyproject.toml table.",
    )
    add_serve_arguments(serve)
    return serve


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _workers(text: str) -> str:
    if text in ("auto", "logical"):
        return text
    _nonneg_int(text)
    return text


def _positive_int(text: str) -> int:
    value = _nonneg_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _port(text: str) -> int:
    value = _nonneg_int(text)
    if not 0 < value <= 65531:
        raise argparse.ArgumentTypeError(f"expected 1..65531, got {value}")
    return value
