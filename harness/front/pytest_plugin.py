"""fracas as a pytest plugin (entry point ``pytest11``; the root conftest loads it in a
checkout when the entry point did not).

Options: the rows of ``front.options`` (``--orchestrator``, ``--fracas-seed``,
``--fracas-report`` ...), resolved once at configure into a ``RunSpec``
(``front.runspec``). Under ``fracas run`` the session takes the spec that command
resolved, and xdist workers take their controller's, as data. Without
``--fracas-report``, failing runs' replay files go to ``.fracas/replays/`` under the
rootdir, which pytest's tmp cleanup never touches.

Fixtures: ``fracas`` (the scenario handle: ``run``, ``orders``, ``world``),
``fracas_topology`` (the running processes), ``fracas_world`` (the seeded world).
One topology serves the whole session; every ``fracas.run`` resets it first.
Marker: ``@pytest.mark.fracas(needs=["advance_clock"])`` skips a scenario whose
orchestrator lacks a capability.

Scale (docs/scaling.md): under pytest-xdist (``-n N``) each worker starts its own
topology (its own ports, and ``run/<worker>`` under the report folder) and writes its
own runs and report part; the controller builds the one index from the parts, with the
code ``fracas report merge`` uses. ``--shard K/N`` keeps every N-th test
(fracas.harness.front.shard); ``fracas_slice`` cuts a property scenario into Hypothesis slices that
workers and shards share (fracas.harness.run.slices); ``--fracas-time-scale`` stretches the
harness's deadlines under load (fracas.harness.kit.timescale).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest

from fracas.fakes.world import World, build_world
from fracas.harness.adapters import AdapterError, OrchestratorAdapter
from fracas.harness.front.options import BY_NAME, add_to_pytest, values_from_pytest
from fracas.harness.front.runspec import Handed, OptionError, RunSpec, resolve
from fracas.harness.front.shard import Shard
from fracas.harness.front.usererrors import is_user_error, short_text
from fracas.harness.kit.invocation import fracas_command
from fracas.harness.kit.timescale import ENV as TIME_SCALE_ENV
from fracas.harness.report.outcome import SessionInfo, TestOutcome
from fracas.harness.run.runner import RunResult
from fracas.harness.run.scenario import Fracas
from fracas.harness.run.slices import Slice, make_slice, slice_count
from fracas.harness.run.topology import Topology, TopologyConfig
from fracas.harness.search import profiles as _profiles  # noqa: F401 - registers ci, dev, soak for --hypothesis-profile

_HANDLE = pytest.StashKey[Fracas]()
#: The session's options, resolved once (front.runspec).
_SPEC = pytest.StashKey[RunSpec]()
_INDEX = pytest.StashKey[Path]()
#: pytest's verdict on each run, by its index in the handle's results.
OUTCOMES = pytest.StashKey[dict[int, TestOutcome]]()
_FIRST_RUN = pytest.StashKey[int]()
_STARTED = pytest.StashKey[float]()
#: time.monotonic() at configure, for the progress line's elapsed time.
_T0 = pytest.StashKey[float]()
_SHARD = pytest.StashKey[Shard]()
#: nodeid -> the test's place in the whole collection (before --shard drops any).
_POSITIONS = pytest.StashKey[dict[str, int]]()
#: nodeid -> the name its runs get (the test name; module.name when two modules share it).
_NAMES = pytest.StashKey[dict[str, str]]()
#: run index in the handle's results -> (test position, run's place in its test).
_RUN_POSITIONS = pytest.StashKey[dict[int, tuple[int, int]]]()
#: Names this session's report parts (the controller's, handed to its xdist workers).
_TOKEN = pytest.StashKey[str]()
#: The runs table's rows the xdist workers sent back.
_WORKER_ROWS = pytest.StashKey[list[dict[str, Any]]]()
#: run index in the handle's results -> its report files' stem (given as tests end).
_STEMS = pytest.StashKey[dict[int, str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_to_pytest(parser.getgroup("fracas", "fracas chaos harness"))


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_T0] = time.monotonic()
    config.addinivalue_line(
        "markers",
        "fracas(needs=[...]): a chaos scenario; skipped when the orchestrator "
        "lacks a needed capability (crash, restart, pause, review, advance_clock)",
    )
    spec = config.stash[_SPEC] = _run_spec(config)
    config.stash[_SHARD] = spec.shard
    if spec.time_scale is not None:
        os.environ[TIME_SCALE_ENV] = str(spec.time_scale)
    workerinput = getattr(config, "workerinput", None)
    token = workerinput.get("fracas_token") if workerinput else None
    config.stash[_TOKEN] = str(token or f"{int(time.time())}-{os.getpid()}")


def _run_spec(config: pytest.Config) -> RunSpec:
    """fracas run's spec (handed to this session, or to an xdist worker as data), else
    the one this session's flags, environment and pyproject.toml give."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput and "fracas_spec" in workerinput:
        return RunSpec.from_data(workerinput["fracas_spec"])
    given = values_from_pytest(config.getoption)
    handed = [p for p in config.pluginmanager.get_plugins() if isinstance(p, Handed)]
    if handed:
        for name, value in given.items():
            if value is not None:  # given after fracas run's --: it would be ignored
                option = BY_NAME[name]
                raise pytest.UsageError(
                    f"{option.pytest}: fracas run has resolved its options already; "
                    f"give it as fracas run {option.cli} {value}"
                )
        return handed[0].spec
    try:
        spec = resolve(given, pytest_flags=True)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from None
    if spec.orchestrator.source in (BY_NAME["orchestrator"].pytest, BY_NAME["orchestrator"].env):
        _check_orchestrator_command(spec)
    return spec


def _worker_id(config: pytest.Config) -> str | None:
    """``gw0``, ``gw1``... in an xdist worker; None in the controller or a plain session."""
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else None


def _is_controller(config: pytest.Config) -> bool:
    return _worker_id(config) is None and config.pluginmanager.getplugin("dsession") is not None


def _profile_name(config: pytest.Config) -> str:
    return str(
        config.getoption("hypothesis_profile", None)
        or getattr(hypothesis.settings, "_current_profile", None)
        or "default"
    )


def _slices(config: pytest.Config) -> int:
    slices = config.stash[_SPEC].slices
    return slice_count(None if slices is None else str(slices), None, _profile_name(config))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A scenario that takes ``fracas_slice`` becomes S tests, one per Hypothesis slice."""
    if "fracas_slice" in metafunc.fixturenames:
        count = _slices(metafunc.config)
        metafunc.parametrize(
            "fracas_slice",
            range(count),
            indirect=True,
            ids=[f"slice{i + 1}of{count}" for i in range(count)],
        )


@pytest.fixture
def fracas_slice(request: pytest.FixtureRequest) -> Slice:
    """This test's Hypothesis slice: ``fracas_slice.apply(search)`` (fracas.harness.run.slices)."""
    index = int(getattr(request, "param", 0))
    count = _slices(request.config) if hasattr(request, "param") else 1
    return make_slice(index, count, request.config.stash[_SPEC].seed)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Number the tests as collected (after -k and -m), name their runs, then keep this
    shard's tests. Every machine collects the same list, so the split needs no talk."""
    config.stash[_POSITIONS] = {item.nodeid: i for i, item in enumerate(items)}
    counts: dict[str, int] = {}
    for item in items:
        counts[item.name] = counts.get(item.name, 0) + 1
    config.stash[_NAMES] = {
        item.nodeid: item.name if counts[item.name] == 1 else f"{_module_of(item)}.{item.name}"
        for item in items
    }
    shard = config.stash.get(_SHARD, None)
    if shard is None or shard.count == 1:
        return
    kept, dropped = shard.select(items)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def _module_of(item: pytest.Item) -> str:
    module = getattr(item, "module", None)
    return str(getattr(module, "__name__", "") or item.path.stem).rsplit(".", 1)[-1]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: the workers name their report parts after the controller's session, and
    take its spec as it is (they parse no options of their own)."""
    node.workerinput["fracas_token"] = node.config.stash[_TOKEN]
    node.workerinput["fracas_spec"] = node.config.stash[_SPEC].to_data()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: a worker's runs-table rows, for the controller's summary."""
    rows = getattr(node, "workeroutput", {}).get("fracas_runs") or []
    node.config.stash.setdefault(_WORKER_ROWS, []).extend(rows)


def _check_orchestrator_command(spec: RunSpec) -> None:
    """An orchestrator named on the command line or in the environment is checked before
    pytest prints anything, so a typo is one line, not a traceback under every test."""
    from fracas.harness.adapters import adapter_from_spec
    from fracas.harness.adapters.choreo_spec import check_runnable
    from fracas.harness.adapters.command import check_command

    try:
        if spec.orchestrator.choreography is not None:
            check_runnable(spec.orchestrator.choreography)
        if spec.orchestrator.choreography is None or spec.orchestrator.hybrid:
            adapter = adapter_from_spec(spec.orchestrator)
            check_command(adapter.argv, adapter.cwd)
    except AdapterError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def fracas_world(pytestconfig: pytest.Config) -> World:
    return build_world(pytestconfig.stash[_SPEC].seed)


def replay_dir(config: pytest.Config) -> Path:
    """``<--fracas-report>/replays``, else ``<rootdir>/.fracas/replays`` (never a pytest
    tmp dir: those are cleaned up after a few sessions)."""
    report = config.stash[_SPEC].report
    if report:
        return Path(report) / "replays"
    return Path(config.rootpath) / ".fracas" / "replays"


@pytest.fixture(scope="session")
def fracas_adapter() -> OrchestratorAdapter | None:
    """The orchestrator adapter object the session tests through. None (the default):
    the one ``--orchestrator`` (or FRACAS_ORCHESTRATOR, or pyproject.toml) describes.
    Override this fixture in a conftest.py to test through an adapter class of your own."""
    return None


@pytest.fixture(scope="session")
def fracas_topology(
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    fracas_adapter: OrchestratorAdapter | None,
    request: pytest.FixtureRequest,
) -> Iterator[Topology]:
    __tracebackhide__ = True
    from fracas.harness.backends import BackendError
    from fracas.harness.kit.procs import ProcessFailed

    spec = pytestconfig.stash[_SPEC]
    report = spec.report
    worker = _worker_id(pytestconfig)
    if report:  # each xdist worker its own state dirs and logs
        run_dir = Path(report) / "run" / worker if worker else Path(report) / "run"
    else:
        run_dir = tmp_path_factory.mktemp("fracas-run")
    config = TopologyConfig(
        run_dir=run_dir,
        seed=spec.seed,
        fault_backend=spec.fault_backend,
        orchestrator=spec.orchestrator,
        adapter=fracas_adapter,
    )
    try:
        topo = Topology.start(config)
    except (AdapterError, BackendError, ProcessFailed) as exc:
        failed = f"fracas: cannot start the topology: {exc}"
    else:
        failed = ""
    if failed:
        # Once for the session, not the same message under every scenario: the first
        # scenario errors (so pytest's summary counts it) and the session stops there.
        request.session.shouldstop = "fracas: the topology did not start"
        pytest.fail(failed, pytrace=False)
    try:
        yield topo
    finally:
        topo.stop()


@pytest.fixture(scope="session")
def fracas(pytestconfig: pytest.Config, fracas_topology: Topology) -> Fracas:
    report = pytestconfig.stash[_SPEC].report
    handle = Fracas(
        fracas_topology,
        seed=pytestconfig.stash[_SPEC].seed,
        report_dir=Path(report) if report else Path(fracas_topology.config.run_dir),
        replay_dir=replay_dir(pytestconfig),
    )
    tr = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if (
        tr is not None
        and _long_profile(pytestconfig)
        and getattr(tr, "isatty", False)
        and _worker_id(pytestconfig) is None
    ):
        handle.on_result = _progress_line(pytestconfig, tr, handle)
    pytestconfig.stash[_HANDLE] = handle
    return handle


def _long_profile(config: pytest.Config) -> bool:
    profile = config.getoption("hypothesis_profile", None) or os.environ.get("FRACAS_PROFILE")
    return profile in ("dev", "soak")


def _progress_line(config: pytest.Config, tr: Any, handle: Fracas) -> Any:
    """Under dev and soak, a line per run on a terminal: the session is not stuck."""
    import contextlib
    import time

    capman = config.pluginmanager.getplugin("capturemanager")

    def show(name: str, result: RunResult) -> None:
        from fracas.harness.report.writer import Filed

        runs = handle.results
        bad = sum(r.violations if isinstance(r, Filed) else len(r.verdict.violations)
                  for _, r in runs)  # fmt: skip
        elapsed = int(time.monotonic() - config.stash[_T0])
        # pytest captures the test's output; this line is for the person watching.
        paused = capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()
        with paused:
            tr.write_line(
                f"fracas: {len(runs)} examples done, {bad} violations so far, "
                f"{elapsed // 60}m{elapsed % 60:02d}s elapsed (last: {name})"
            )

    return show


def _shorten_user_error(report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
    """A user's mistake (a bad schedule, plan or orchestrator spec) reads as its message,
    without the harness frames under it; in a test body and in fixtures alike."""
    excinfo = call.excinfo
    if report.failed and excinfo is not None and is_user_error(excinfo.value):
        report.longrepr = short_text(excinfo.value)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """After fixture setup, so the session's handle exists even for the first test."""
    handle = item.config.stash.get(_HANDLE, None)
    if handle is not None:
        handle.current_test = item.config.stash.get(_NAMES, {}).get(item.nodeid, item.name)
        item.stash[_FIRST_RUN] = len(handle.results)
    marker = item.get_closest_marker("fracas")
    if marker is None or handle is None:
        return
    needs = marker.kwargs.get("needs", ())
    missing = sorted(set(needs) - handle.orchestrator.capabilities)
    if missing:
        pytest.skip(f"orchestrator lacks {', '.join(missing)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach pytest's outcome to the runs this test made, for the report index."""
    made = yield
    _shorten_user_error(made.get_result(), call)  # type: ignore[attr-defined]
    handle = item.config.stash.get(_HANDLE, None)
    if call.when != "call" or handle is None or _FIRST_RUN not in item.stash:
        return
    rep = made.get_result()  # type: ignore[attr-defined]
    from fracas.harness.report.text import ConsistencyError

    exc = call.excinfo.value if call.excinfo is not None else None
    message = call.excinfo.exconly().splitlines()[0][:300] if rep.failed and call.excinfo else ""
    outcomes = item.config.stash.setdefault(OUTCOMES, {})
    last = len(handle.results) - 1
    if rep.failed and not isinstance(exc, ConsistencyError) and last >= item.stash[_FIRST_RUN]:
        run = handle.results[last][1]
        if not run.ok and isinstance(run, RunResult):  # failed on its own check: the witness too
            rep.sections.append(("fracas witness", run.failure_text()))
    position = item.config.stash.get(_POSITIONS, {}).get(item.nodeid, 1 << 30)
    run_positions = item.config.stash.setdefault(_RUN_POSITIONS, {})
    for i in range(item.stash[_FIRST_RUN], last + 1):
        run_positions[i] = (position, i - item.stash[_FIRST_RUN])
        outcomes[i] = TestOutcome(
            test=item.nodeid,
            outcome=rep.outcome,
            message=message,
            violation=isinstance(exc, ConsistencyError),
            final=i == last,
        )
    _file_runs(item.config, handle, last)


def _file_runs(config: pytest.Config, handle: Fracas, last: int) -> None:
    """Write the runs of a test that ended now, and keep only their rows: a session that
    kept every run whole grew by each run's history and ledgers (a soak's harness by
    1.3 MB a run of 25 orders). Each run's file name is the one ``write_part`` would give
    it: the same rule over the same names in the same order."""
    from fracas.harness.adapters.base import call_timeout
    from fracas.harness.kit.names import first_free, stem_of
    from fracas.harness.report.writer import Filed, file_run

    report = config.stash[_SPEC].report
    directory = Path(report) if report else None
    stems: dict[int, str] = config.stash.setdefault(_STEMS, {})
    used: set[str] = set(stems.values())
    outcomes = config.stash.get(OUTCOMES, {})
    positions = config.stash.get(_RUN_POSITIONS, {})
    timeout = call_timeout(handle.orchestrator)
    for i in range(len(stems), last + 1):
        stems[i] = first_free(stem_of(handle.results[i][0]), used)
        used.add(stems[i])
    for i in range(last + 1):
        name, run = handle.results[i]
        if isinstance(run, Filed):
            continue
        table = _table_row(name, run, outcomes.get(i), timeout)
        handle.results[i] = (name, file_run(
            directory, stems[i], run, outcome=outcomes.get(i),
            position=positions.get(i, (1 << 30, i)), extra={"table": table},
        ))  # fmt: skip


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: Any, right: Any) -> Any:
    """A scenario's own assertion on statuses names the orders and tells their story."""
    from fracas.harness.report.assertion import explain_compare

    return explain_compare(op, left, right)


def _session_info(config: pytest.Config, handle: Fracas) -> SessionInfo:
    adapter = handle.orchestrator
    return SessionInfo(
        orchestrator=adapter.description,
        seed=handle.seed,
        profile=_profile_name(config),
        fault_backend=handle.topology.backend.name,
        started=config.stash.get(_STARTED, None),
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Each writer (this session, or each xdist worker) writes its runs and one report
    part; whoever is last (this session, or the xdist controller) indexes the parts."""
    config = session.config
    handle = config.stash.get(_HANDLE, None)
    report = config.stash[_SPEC].report
    worker = _worker_id(config)
    if worker is not None and handle is not None:
        rows = _table_rows(handle, config)
        positions = config.stash.get(_RUN_POSITIONS, {})
        for i, row in enumerate(rows):
            row["position"] = list(positions.get(i, (1 << 30, i)))
        config.workeroutput["fracas_runs"] = rows  # type: ignore[attr-defined]
    from fracas.harness.report.parts import PARTS, build_index
    from fracas.harness.report.writer import write_part, write_reports

    token = config.stash[_TOKEN]
    if _is_controller(config):
        parts = sorted((Path(report) / PARTS).glob(f"{token}-*.json")) if report else []
        if parts and report:
            config.stash[_INDEX] = build_index(Path(report), parts)
        return
    if handle is None or not report or not handle.results:
        return
    shard = config.stash.get(_SHARD, None) or Shard(1, 1)
    part_id = f"{token}-{shard.index}of{shard.count}-{worker or 'main'}"
    options: dict[str, Any] = {
        "outcomes": config.stash.get(OUTCOMES, {}),
        "session": _session_info(config, handle),
        "positions": config.stash.get(_RUN_POSITIONS, {}),
    }
    if worker is not None:  # the controller indexes every worker's part
        write_part(Path(report), part_id, handle.results, **options)
    else:
        config.stash[_INDEX] = write_reports(
            Path(report), handle.results, part_id=part_id, **options
        )


#: The runs table's columns: heading, width, and what it means (the legend).
COLUMNS = (
    ("orders", 6, "orders submitted"),
    ("completed", 9, "ended completed"),
    ("failed", 6, "ended failed"),
    ("attention", 9, "ended needs_attention (for a human)"),
    ("faults", 6, "faults applied"),
    ("calls/order", 11, "requests to the fakes per order"),
    ("retries/order", 13, "repeated requests per order"),
)


#: Room for the verdict column: "12 VIOLATIONS (race)".
VERDICT_WIDTH = 20


def _table_rows(handle: Fracas, config: pytest.Config) -> list[dict[str, Any]]:
    """The runs table's rows as plain data: an xdist worker sends them to the controller.
    A filed run's row was made when its test ended."""
    from fracas.harness.adapters.base import call_timeout
    from fracas.harness.report.writer import Filed

    outcomes = config.stash.get(OUTCOMES, {})
    timeout = call_timeout(handle.orchestrator)
    return [
        dict(result.extra["table"]) if isinstance(result, Filed)
        else _table_row(name, result, outcomes.get(i), timeout)
        for i, (name, result) in enumerate(handle.results)
    ]  # fmt: skip


def _table_row(name: str, result: RunResult, outcome: Any, timeout: float) -> dict[str, Any]:
    """One run's row. ``test_failed``: pytest failed the run's test, which a consistent
    verdict must not hide."""
    from fracas.harness.run.shape import shape_key, shape_of

    s = result.summary  # computed once per run, shared with its report
    out = s["outcomes"]
    return {
        "name": name,
        "values": [
            s["orders"],
            out.get("completed", 0),
            out.get("failed", 0),
            out.get("needs_attention", 0),
            len(result.nemesis.applied),
            f"{s['requests']['per_order_mean']:.2f}",
            f"{s['requests']['retries_per_order_mean']:.2f}",
        ],
        "ok": result.ok,
        "test_failed": bool(outcome and outcome.failed),
        "violations": len(result.verdict.violations),
        "races": result.history.races(),
        "replay": str(result.replay_path) if result.replay_path is not None else None,
        "shape": shape_key(shape_of(result.plans, result.schedule, timeout)),
        "proxy_restarts": [r["said"] for r in result.history.meta.get("proxy_restarts", [])],
    }


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line per chaos run, named as in the report and the replay files; then the
    report's path and how to replay a failure. Under xdist, the workers' runs."""
    handle = config.stash.get(_HANDLE, None)
    if handle is not None and handle.results:
        rows = _table_rows(handle, config)
    else:
        sent: list[dict[str, Any]] = config.stash.get(_WORKER_ROWS, [])
        rows = sorted(sent, key=lambda r: (tuple(r.get("position") or ()), str(r["name"])))
    if not rows:
        return
    tr = terminalreporter
    tr.section("fracas runs")
    tr.write_line(
        "  ".join(f"{h:>{w}}" for h, w, _ in COLUMNS) + f"  {'verdict':<{VERDICT_WIDTH}}  run"
    )
    totals = {"runs": 0, "orders": 0, "violations": 0}
    for row in rows:
        n = int(row["violations"])
        verdict = "consistent" if row["ok"] else f"{n} VIOLATION{'S' if n != 1 else ''}"
        if row["ok"] and row.get("test_failed"):
            verdict = "FAILED (test)"
        if row.get("races") and not row["ok"]:
            verdict += " (race)"
        tr.write_line(
            "  ".join(f"{v:>{w}}" for v, (_, w, _) in zip(row["values"], COLUMNS, strict=True))
            + f"  {verdict:<{VERDICT_WIDTH}}  {row['name']}",
            red=not row["ok"] or bool(row.get("test_failed")),
        )
        totals["runs"] += 1
        totals["orders"] += int(row["values"][0])
        totals["violations"] += n
    tr.write_line(
        "legend: " + "; ".join(f"{h}: {d}" for h, _, d in COLUMNS)
        + "; verdict: consistent, how many rule violations the checkers found, or FAILED "
        "(test) when pytest failed the test of a consistent run; (race): the run's faults "
        "include a race by nature (a decision racing the review timeout), so a replay may "
        "take the other branch"
    )
    # Replays, shrink steps and confirming re-runs repeat a shape: a search whose
    # examples repeat each other shows fewer shapes than runs.
    shapes = len({r.get("shape") for r in rows})
    tr.write_line(
        f"{totals['runs']} runs, {totals['orders']} orders, {totals['violations']} violations, "
        f"{shapes} distinct shapes"
    )
    for row in rows:  # the harness put the fault proxy back during the run: say so
        for said in row.get("proxy_restarts") or ():
            tr.write_line(f"{row['name']}: {said}", yellow=True)
    index = config.stash.get(_INDEX, None)
    tr.write_line(
        f"fracas report: {index}" if index is not None
        else "fracas report: none written (give --fracas-report DIR, or use fracas run)"
    )
    failing = [Path(r["replay"]) for r in rows if r["replay"] is not None]
    if failing:
        tr.write_line(
            f"replay a failure: {fracas_command()} replay {failing[0]}"
            + (f"  ({len(failing)} replay files in {failing[0].parent})" if len(failing) > 1 else ""),
            bold=True,
        )
