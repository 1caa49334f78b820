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
import importlib.util
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

#: Read by run, replay and up (each help text says so).
ORCHESTRATOR_ENV = (
    "environment: FRACAS_ORCHESTRATOR, FRACAS_ORCHESTRATOR_CAPABILITIES, "
    "FRACAS_ORCHESTRATOR_CLOCK, FRACAS_ORCHESTRATOR_START_TIMEOUT, "
    "FRACAS_ORCHESTRATOR_CALL_TIMEOUT, FRACAS_FAULT_BACKEND, "
    "TOXIPROXY_URL (url backend). pyproject.toml: the [tool.fracas.orchestrator] table "
    "(command, health, clock, capabilities, env, start_timeout, call_timeout) of the nearest "
    "pyproject.toml. Options beat the environment, which beats pyproject.toml."
)


def build_parser() -> argparse.ArgumentParser:
    from fracas.fakes.__main__ import add_serve_arguments
    from fracas.harness.kit.version import fracas_version

    parser = argparse.ArgumentParser(prog="fracas", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"fracas {fracas_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run the scenario suite and write its report",
        usage="fracas run [options] [PATH ...] [-- PYTEST_ARGS ...]",
        description="Run the scenario suite against the orchestrator under test, with JSON "
        "and HTML reports and replay files in --report. Arguments after -- go to pytest.",
        epilog=f"{ORCHESTRATOR_ENV} Also FRACAS_PROFILE (default for --profile) and "
        "FRACAS_SEED (when --seed is not given).",
    )
    _topology_options(run)
    run.add_argument(
        "--report",
        type=Path,
        default=Path("fracas-report"),
        help="report directory (default fracas-report)",
    )
    run.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="how many property-based examples: ci (a few), dev (20), soak (500); "
        "default FRACAS_PROFILE, else ci",
    )
    run.add_argument("-k", dest="keyword", default=None, help="only scenarios matching this")
    run.add_argument(
        "paths",
        type=Path,
        nargs="*",
        metavar="PATH",
        help="scenario files or folders to run, instead of the bundled suite",
    )
    run.add_argument(
        "--bundled",
        action="store_true",
        help="run the bundled scenario suite too (the default when no PATH is given)",
    )
    run.add_argument(
        "-n",
        dest="workers",
        type=_workers,
        default=None,
        metavar="N",
        help="run N topologies in parallel (pytest-xdist workers; 'auto': one per CPU core)",
    )
    run.add_argument(
        "--shard",
        default=None,
        metavar="K/N",
        help="run only shard K of N of the suite (default FRACAS_SHARD, or "
        "JOB_COMPLETION_INDEX with FRACAS_SHARD_COUNT); merge with fracas report merge",
    )
    run.add_argument(
        "--slices",
        type=_positive_int,
        default=None,
        metavar="S",
        help="Hypothesis slices per property scenario (default FRACAS_SLICES, else by "
        "profile: ci 2, dev 4, soak 8); at least workers x machines",
    )
    run.add_argument(
        "--time-scale",
        default=None,
        metavar="X",
        help="stretch the harness's deadlines by X (default FRACAS_TIME_SCALE, else "
        "workers per CPU core, at least 1)",
    )

    replay = sub.add_parser(
        "replay",
        help="run a replay file again",
        description="Run a replay file's orders and faults again, against the orchestrator, "
        "fault backend and seed the file records (unless --orchestrator or --fault-backend "
        "override them), and say whether the recorded violations reproduced.",
        epilog=f"Only the options override the file. Without a recorded orchestrator "
        f"(an older file) the usual choice applies: {ORCHESTRATOR_ENV}",
    )
    replay.add_argument("file", type=Path, help="a replay file written by a failing run")
    _topology_options(replay)
    replay.add_argument(
        "--report",
        type=Path,
        default=Path("fracas-report/replay"),
        help="report directory (default fracas-report/replay)",
    )
    replay.add_argument(
        "--times", type=_positive_int, default=1, help="run it this many times (default 1)"
    )

    up = sub.add_parser(
        "up",
        help="start the whole topology until Ctrl-C",
        description="Start the fakes, the fault proxy and the orchestrator; print every URL.",
        epilog=ORCHESTRATOR_ENV,
    )
    _topology_options(up)
    up.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".fracas/up"),
        help="state and logs go here (default .fracas/up)",
    )
    up.add_argument(
        "--fakes-only",
        action="store_true",
        help="only the five fakes, no proxy and no orchestrator",
    )
    up.add_argument(
        "--base-port",
        type=_port,
        default=None,
        help="with --fakes-only: crm gets this port, the others the next four",
    )

    report = sub.add_parser(
        "report",
        help="work with report folders (merge)",
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
    merge.add_argument(
        "--out",
        type=Path,
        default=Path("fracas-report"),
        help="the merged folder (default fracas-report)",
    )

    serve = sub.add_parser(
        "serve",
        help="run one fake service in the foreground",
        description="Run one fake service on 127.0.0.1 until Ctrl-C; prints where it listens.",
        epilog="Reads no environment variables and no pyproject.toml table.",
    )
    add_serve_arguments(serve)
    return parser


PROFILES = ("ci", "dev", "soak")


def _topology_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--orchestrator",
        default=None,
        help="'bundled' (default) or the command line of another orchestrator "
        "(or FRACAS_ORCHESTRATOR, or [tool.fracas.orchestrator] command)",
    )
    p.add_argument(
        "--orchestrator-capabilities",
        default=None,
        metavar="LIST",
        help="what that command supports, e.g. crash,restart,review "
        "(default crash,restart,pause,review; never advance_clock without a clock)",
    )
    p.add_argument(
        "--orchestrator-clock",
        default=None,
        metavar="PATH",
        help='its clock endpoint (POST {"seconds": N}); enables review timeouts',
    )
    p.add_argument(
        "--orchestrator-start-timeout",
        default=None,
        metavar="SECONDS",
        help="how long it may take to become healthy (default 30)",
    )
    p.add_argument(
        "--orchestrator-call-timeout",
        default=None,
        metavar="SECONDS",
        help="how long it waits on one call to a service before it gives up (default 5; "
        "the search draws waits past it)",
    )
    p.add_argument(
        "--fault-backend",
        choices=("embedded", "url", "binary", "docker"),
        default=None,
        help="fault proxy (default embedded, or FRACAS_FAULT_BACKEND)",
    )
    p.add_argument(
        "--seed", type=_nonneg_int, default=None, help="world seed (default FRACAS_SEED, else 0)"
    )


def _spec(parser: argparse.ArgumentParser, args: argparse.Namespace, option: str | None) -> Any:
    """The orchestrator spec the options (then environment, then pyproject) choose."""
    from fracas.harness.adapters import AdapterError, resolve_spec
    from fracas.harness.adapters.select import Declared

    try:
        return resolve_spec(
            option,
            declared=Declared(
                capabilities=args.orchestrator_capabilities,
                clock=args.orchestrator_clock,
                start_timeout=args.orchestrator_start_timeout,
                call_timeout=args.orchestrator_call_timeout,
            ),
        )
    except AdapterError as exc:
        parser.error(str(exc))


def _seed(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.seed is not None:
        return int(args.seed)
    text = os.environ.get("FRACAS_SEED", "0")
    try:
        return _nonneg_int(text)
    except argparse.ArgumentTypeError as exc:
        parser.error(f"FRACAS_SEED: {exc}")


def _profile(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """--profile, else FRACAS_PROFILE (the same meaning as in `pytest scenarios`), else ci."""
    if args.profile is not None:
        return str(args.profile)
    value = os.environ.get("FRACAS_PROFILE", "").strip() or "ci"
    if value not in PROFILES:
        parser.error(f"FRACAS_PROFILE: expected one of {', '.join(PROFILES)}, got {value!r}")
    return value


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


def _check_state_dir(parser: argparse.ArgumentParser, path: Path) -> None:
    if path.exists() and not path.is_dir():
        parser.error(f"argument --state-dir: {path} exists and is not a directory")


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

    profile = _profile(parser, args)
    seed = _seed(parser, args)
    spec = _spec(parser, args, args.orchestrator)
    from fracas.harness.front.shard import ShardError, shard_from
    from fracas.harness.kit.timescale import TimeScaleError, parse_scale

    try:
        shard = shard_from(args.shard)
        if args.time_scale is not None:
            parse_scale(args.time_scale, "argument --time-scale")
    except (ShardError, TimeScaleError) as exc:
        parser.error(str(exc))
    problem = preflight(spec, args.fault_backend, seed)
    if problem is not None:
        print(f"fracas: {problem}", file=sys.stderr)
        return 2
    extra = list(args.pytest_args)
    # PATH's scenarios only; the bundled suite when no PATH is given, or with --bundled
    # (once: in a checkout, scenarios/ is the bundled suite under another name).
    paths = [str(p) for p in args.paths]
    bundled = _scenarios_dir()
    if (args.bundled or not paths) and bundled.resolve() not in {p.resolve() for p in args.paths}:
        paths.append(str(bundled))
    argv = [
        *paths,
        "--fracas-report",
        str(args.report),
        "--hypothesis-profile",
        profile,
        "--fracas-seed",
        str(seed),
        "-p",
        "no:cacheprovider",
        # The preflight above imported httpx, and with it anyio, whose pytest plugin then
        # warns on every run that its module was imported before pytest could rewrite
        # its asserts; anyio's asserts are not ours, and the warning only alarms.
        "-W",
        "ignore:Module already imported so cannot be rewritten; anyio"
        ":pytest.PytestAssertRewriteWarning",
        # The same for fracas itself, installed plainly (pytest rewrites an entry point's
        # package), which this command imported before pytest started.
        "-W",
        "ignore:Module already imported so cannot be rewritten; fracas"
        ":pytest.PytestAssertRewriteWarning",
        "-v",
        # A scenario's time grows with the profile's examples; a soak has no limit.
        "--timeout",
        str(PROFILE_TIMEOUTS[profile]),
    ]
    for flag, value in (
        ("--orchestrator", args.orchestrator),
        ("--orchestrator-capabilities", args.orchestrator_capabilities),
        ("--orchestrator-clock", args.orchestrator_clock),
        ("--orchestrator-start-timeout", args.orchestrator_start_timeout),
        ("--orchestrator-call-timeout", args.orchestrator_call_timeout),
    ):
        if value:
            argv += [flag, value]
    if args.fault_backend:
        argv += ["--fault-backend", args.fault_backend]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.workers is not None:
        argv += ["-n", args.workers]
    if shard.count > 1:
        argv += ["--shard", str(shard)]
    if args.slices is not None:
        argv += ["--fracas-slices", str(args.slices)]
    if args.time_scale is not None:
        argv += ["--fracas-time-scale", args.time_scale]
    return int(pytest.main(argv + extra))


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
    from fracas.harness.kit.version import fracas_version
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
    if args.orchestrator or replay.orchestrator is None:
        spec = _spec(parser, args, args.orchestrator)
    else:
        spec = replay.orchestrator
    backend = args.fault_backend or replay.fault_backend
    if args.seed is not None and args.seed != replay.seed:
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
    if replay.fracas_version and replay.fracas_version != fracas_version():
        say(f"note: recorded by fracas {replay.fracas_version}; this is {fracas_version()}")
    config = TopologyConfig(
        run_dir=args.report / "run",
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
    index = write_reports(args.report, results)
    print(f"fracas report: {index}")
    print(tally_text(replay, outcomes), flush=True)
    return 0 if all(r.ok for _, r in results) else 1


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

    spec = _spec(parser, args, args.orchestrator)
    args.seed = _seed(parser, args)
    stop = _wait_for_signal()
    try:
        topo = Topology.start(
            TopologyConfig(
                run_dir=args.state_dir,
                seed=args.seed,
                fault_backend=args.fault_backend,
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
    args.seed = _seed(parser, args)
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
    # What follows `run ... --` is pytest's: argparse would hand it to `run`'s PATHs.
    passthrough: list[str] = []
    if argv[:1] == ["run"] and "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(argv)
    args.pytest_args = passthrough
    return COMMANDS[args.command](parser, args)


if __name__ == "__main__":
    sys.exit(main())
