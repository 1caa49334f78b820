"""The ``fracas`` command line.

- ``fracas run``: the scenario suite against the orchestrator under test, with its report.
- ``fracas replay FILE``: run a replay file's orders and faults again; say if it reproduces.
- ``fracas report merge DIR...``: one report from the report folders of shards.
- ``fracas up``: start the whole topology, print every URL, wait for Ctrl-C.
- ``fracas serve NAME --port P --state-dir D --seed S``: run one fake in this process.

Bad input exits with status 2 and a message naming the argument, never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from fracas.harness.front.parsers import build_parsers

if TYPE_CHECKING:
    from fracas.harness.front.runspec import RunSpec
    from fracas.harness.run.replay import Replay

def build_parser() -> argparse.ArgumentParser:
    """The top-level parser (each command's own comes from ``build_parsers``)."""
    return build_parsers()[0]


def _resolve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> RunSpec:
    """The options (then environment, then pyproject) a command was given, resolved once;
    a bad one is an error in that command's usage."""
    from fracas.harness.front.options import for_command
    from fracas.harness.front.runspec import OptionError, resolve

    given = {o.name: getattr(args, o.name) for o in for_command(args.command)}
    try:
        return resolve(given)
    except OptionError as exc:
        parser.error(str(exc))


def _check_state_dir(parser: argparse.ArgumentParser, path: Path) -> None:
    """A state dir nothing can be written in (read-only, not ours) is said before anything
    starts: it was a traceback, or a fake's exit a few seconds later."""
    if path.exists() and not path.is_dir():
        parser.error(f"argument --state-dir: {path} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        parser.error(f"argument --state-dir: cannot write in {path}: {reason}")


# -- run -----------------------------------------------------------------------------
def _scenarios_dir() -> Path:
    spec = importlib.util.find_spec("fracas.scenarios")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("fracas: the scenario suite is not installed (package 'fracas.scenarios')")
    return Path(next(iter(spec.submodule_search_locations)))


#: Per-scenario time limit (pytest-timeout) by Hypothesis profile; 0 means none.
PROFILE_TIMEOUTS = {"ci": 300, "dev": 1200, "soak": 0}


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    import pytest

    from fracas.harness.front.preflight import preflight
    from fracas.harness.front.runspec import Handed

    spec = _resolve(parser, args)
    problem = preflight(spec.orchestrator, spec.fault_backend, spec.seed)
    if problem is not None:
        print(f"fracas: {problem}", file=sys.stderr)
        return 2
    # The session takes this spec as it is (Handed); its xdist workers get it as data.
    return int(pytest.main(_pytest_argv(args, spec), plugins=[Handed(spec)]))


def _pytest_argv(args: argparse.Namespace, spec: RunSpec) -> list[str]:
    """What fracas run asks of pytest and its plugins; the user's pytest options last, so
    theirs win (a later -o cache_dir=..., --timeout ...)."""
    # PATH's scenarios only; the bundled suite when no PATH is given, or with --bundled
    # (once: in a checkout, scenarios/ is the bundled suite under another name).
    paths = [str(p) for p in args.paths]
    bundled = _scenarios_dir()
    if (args.bundled or not paths) and bundled.resolve() not in {p.resolve() for p in args.paths}:
        paths.append(str(bundled))
    profile = spec.profile or "ci"
    argv = [
        *paths,
        "--hypothesis-profile",
        profile,
        # The cache (--lf, --ff) lives where fracas run ran, whatever pytest takes for its
        # rootdir (for the installed suite, a folder inside site-packages).
        "-o",
        f"cache_dir={Path.cwd() / '.pytest_cache'}",
        # This command imports plugins before pytest starts: the preflight imports httpx
        # and with it anyio, fracas is itself one, and an option fracas run does not know
        # has it ask pytest's parser, which loads them all. pytest then warns that it
        # cannot rewrite their asserts, which are not the scenarios' and only alarm.
        "-W",
        "ignore:Module already imported so cannot be rewritten"
        ":pytest.PytestAssertRewriteWarning",
        "-v",
        # A scenario's time grows with the profile's examples; a soak has no limit.
        "--timeout",
        str(PROFILE_TIMEOUTS[profile]),
    ]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.workers is not None:
        argv += ["-n", args.workers]
    return argv + list(args.pytest_args)


# -- report --------------------------------------------------------------------------
def _report(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from fracas.harness.report.merge import MergeError, merge_reports

    try:
        index = merge_reports(list(args.dirs), args.out)
    except MergeError as exc:
        print(f"fracas: {exc}", file=sys.stderr)
        return 2
    data = json.loads((index.parent / "index.json").read_text())
    tot = data["totals"]
    print(
        f"fracas: merged {len(args.dirs)} folders: {tot['runs']} runs, {tot['orders']} orders, "
        f"{tot['violations']} violations, {tot['pytest_failures']} pytest failures"
    )
    print(f"fracas report: {index}")
    return 1 if tot["violations"] or tot["pytest_failures"] else 0


# -- replay --------------------------------------------------------------------------
def _replay(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from fracas.harness.adapters import AdapterError
    from fracas.harness.backends import BackendError
    from fracas.harness.kit.procs import ProcessFailed
    from fracas.harness.report.writer import write_reports
    from fracas.harness.run.replay import ReplayError, load_replay, tally_text
    from fracas.harness.run.runner import RunOptions, run
    from fracas.harness.run.topology import Topology, TopologyConfig

    try:
        replay = load_replay(args.file)
    except ReplayError as exc:
        parser.error(f"argument file: {exc}")
    if replay.adapter is not None and not args.orchestrator:
        parser.error(
            f"argument file: {args.file} was recorded through the adapter {replay.adapter}, "
            "which a conftest's fracas_adapter fixture set up; a replay file cannot rebuild "
            "an object. Pass --orchestrator CMD to replay against a command, or run the test "
            f"again with pytest (seed {replay.seed}: --fracas-seed {replay.seed})"
        )
    given = _resolve(parser, args)
    spec = given.orchestrator
    if replay.orchestrator is not None and not args.orchestrator:
        spec = replay.orchestrator
    backend = given.fault_backend if args.fault_backend else replay.fault_backend
    if args.seed is not None and given.seed != replay.seed:
        parser.error(f"argument --seed: a replay runs with its recorded seed {replay.seed}")

    def say(message: str) -> None:
        print(f"fracas: {message}", flush=True)

    recorded = "from the replay file"
    if replay.orchestrator is not None and spec is replay.orchestrator:
        what = "bundled orchestrator" if spec.bundled else " ".join(spec.command or ())
        say(f"orchestrator: {what} ({recorded})")
    else:
        say(f"orchestrator: {spec.describe()}")
    if args.fault_backend:
        backend_from = "--fault-backend"
    else:
        backend_from = recorded if replay.fault_backend else "default"
    say(f"fault backend: {backend or 'embedded'} ({backend_from})")
    say(f"seed: {replay.seed} ({recorded})")
    _replay_notes(replay, say)
    config = TopologyConfig(
        run_dir=Path(args.report) / "run",
        seed=replay.seed,
        fault_backend=backend,
        orchestrator=spec,
    )
    results = []
    outcomes: list[str] = []
    try:
        with Topology.start(config) as topo:
            for i in range(args.times):
                result = run(
                    topo,
                    replay.plans,
                    replay.schedule,
                    RunOptions(settle_seconds=replay.settle_seconds),
                    seed=replay.seed,
                    progress=say,
                )
                outcome = replay.outcome(result)
                outcomes.append(outcome)
                results.append((f"replay-{i + 1}", result))
                say(f"run {i + 1}/{args.times}: {outcome}")
                if not result.ok:
                    print(result.failure_text(), flush=True)
    except (BackendError, AdapterError, ProcessFailed) as exc:
        print(f"fracas: {exc}", file=sys.stderr)
        return 2
    index = write_reports(Path(args.report), results)
    print(f"fracas report: {index}")
    print(tally_text(replay, outcomes), flush=True)
    return 0 if all(r.ok for _, r in results) else 1


def _replay_notes(replay: Replay, say: Callable[[str], None]) -> None:
    """What may make this replay's verdict differ from the recorded one, said first."""
    from fracas.harness.kit.version import fracas_version

    if replay.fracas_version and replay.fracas_version != fracas_version():
        say(f"note: recorded by fracas {replay.fracas_version}; this is {fracas_version()}")
    if replay.races:
        say(f"note: a race by nature ({'; '.join(replay.races)}): either branch may win "
            "on a run, so the verdict may differ from the recorded one")  # fmt: skip


# -- up and serve --------------------------------------------------------------------
def _serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from fracas.harness.kit.net import is_listening

    _check_state_dir(parser, args.state_dir)
    if is_listening(args.port):
        parser.error(f"argument --port: port {args.port} is already in use on 127.0.0.1")
    from fracas.fakes.server import serve

    def ready() -> None:
        print(
            f"fracas: {args.name} listening on http://127.0.0.1:{args.port} "
            f"(state in {args.state_dir}, seed {args.seed}); Ctrl-C to stop",
            flush=True,
        )

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # uvicorn re-raises the signal it caught once it is down

    signal.signal(signal.SIGTERM, on_term)
    try:
        serve(args.name, args.port, args.state_dir, args.seed, args.log_level, on_ready=ready)
    except KeyboardInterrupt:
        pass
    print(f"fracas: {args.name} stopped", flush=True)
    return 0


def _wait_for_signal() -> threading.Event:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stop


def _up(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    _check_state_dir(parser, args.state_dir)
    if args.fakes_only:
        return _up_fakes(parser, args)
    if args.base_port is not None:
        parser.error("argument --base-port: only with --fakes-only (the topology picks free ports)")
    from fracas.harness.adapters import AdapterError
    from fracas.harness.backends import BackendError
    from fracas.harness.kit.procs import ProcessFailed
    from fracas.harness.run.topology import Topology, TopologyConfig

    given = _resolve(parser, args)
    spec, args.seed = given.orchestrator, given.seed
    stop = _wait_for_signal()
    try:
        topo = Topology.start(
            TopologyConfig(
                run_dir=args.state_dir,
                seed=args.seed,
                fault_backend=given.fault_backend,
                orchestrator=spec,
            )
        )
    except (ProcessFailed, AdapterError, BackendError) as exc:
        print(f"fracas: {exc}", file=sys.stderr)
        return 1
    try:
        for name, url in topo.urls().items():
            print(f"{name:<24} {url}", flush=True)
        print(
            f"fracas: up in {topo.started_in:.2f}s (seed {args.seed}, {spec.describe()}); "
            "Ctrl-C to stop",
            flush=True,
        )
        while not stop.wait(0.5):
            dead = [f for f in topo.fakes.values() if not f.process.alive]
            if dead:
                print(
                    f"fracas: {dead[0].name} exited; see {dead[0].process.log_path}",
                    file=sys.stderr,
                )
                return 1
        return 0
    finally:
        topo.stop()
        print("fracas: stopped", flush=True)


def _up_fakes(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    args.seed = _resolve(parser, args).seed
    from fracas.harness.kit.net import is_listening
    from fracas.harness.kit.procs import ProcessFailed
    from fracas.harness.run.services import SERVICES, FakeProcess, spawn_fake

    ports: list[int | None] = [None] * len(SERVICES)
    if args.base_port is not None:
        ports = [args.base_port + i for i in range(len(SERVICES))]
        busy = [p for p in ports if p is not None and is_listening(p)]
        if busy:
            parser.error(f"argument --base-port: port {busy[0]} is already in use on 127.0.0.1")
    fakes: list[FakeProcess] = []
    try:
        for name, port in zip(SERVICES, ports, strict=True):
            fakes.append(spawn_fake(name, args.state_dir / name, args.seed, port))
        # After spawning: the process registry installs its own (kill-everything) handlers.
        stop = _wait_for_signal()
        t0 = time.monotonic()
        for fake in fakes:
            fake.wait_healthy(30.0)
        for fake in fakes:
            print(f"{fake.name:<10} {fake.url}", flush=True)
        print(
            f"fracas: {len(fakes)} fakes up in {time.monotonic() - t0:.2f}s (seed {args.seed});"
            " Ctrl-C to stop",
            flush=True,
        )
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


COMMANDS = {"run": _run, "replay": _replay, "report": _report, "up": _up, "serve": _serve}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, commands = build_parsers()
    if argv[:1] == ["run"]:
        return _main_run(commands["run"], argv[1:])
    args, extra = parser.parse_known_args(argv)
    command = commands[args.command]
    if extra:
        command.error(unknown_text(extra[0], command))
    return COMMANDS[args.command](command, args)


def _main_run(run: argparse.ArgumentParser, argv: list[str]) -> int:
    """fracas run's own options are its; every other option is pytest's (front.passthrough)."""
    from fracas.harness.front.passthrough import UnknownOption, split

    try:
        mine, theirs = split(argv, run)
    except UnknownOption as exc:
        run.error(str(exc))
    args = run.parse_args(mine)
    args.command, args.pytest_args = "run", theirs
    return _run(run, args)


def unknown_text(token: str, parser: argparse.ArgumentParser) -> str:
    known = [k for k in parser._option_string_actions if k.startswith("--")]
    close = difflib.get_close_matches(token.split("=", 1)[0], known, n=1, cutoff=0.75)
    return f"unrecognized arguments: {token}" + (f". Did you mean {close[0]}?" if close else "")


if __name__ == "__main__":
    sys.exit(main())
