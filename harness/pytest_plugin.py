"""fracas as a pytest plugin (entry point ``pytest11``; the root conftest loads it in a
checkout that was never installed).

Options: ``--orchestrator`` (``bundled`` or a command line), ``--fault-backend``
(``embedded``, ``url``, ``binary``, ``docker``), ``--fracas-seed``, ``--fracas-report``
(a directory for the JSON and HTML reports and replay files).

Fixtures: ``fracas`` (the scenario handle: ``run``, ``orders``, ``world``),
``fracas_topology`` (the running processes), ``fracas_world`` (the seeded world).
One topology serves the whole session; every ``fracas.run`` resets it first.
Marker: ``@pytest.mark.fracas(needs=["advance_clock"])`` skips a scenario whose
orchestrator lacks a capability.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest

import harness.profiles  # noqa: F401 - registers ci, dev, soak for --hypothesis-profile
from fakes.world import World, build_world
from harness.adapters import AdapterError, resolve_spec
from harness.report.outcome import SessionInfo, TestOutcome
from harness.scenario import Fracas
from harness.topology import Topology, TopologyConfig

_HANDLE = pytest.StashKey[Fracas]()
#: pytest's verdict on each run, by its index in the handle's results.
OUTCOMES = pytest.StashKey[dict[int, TestOutcome]]()
_FIRST_RUN = pytest.StashKey[int]()
_STARTED = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fracas", "fracas chaos harness")
    group.addoption(
        "--orchestrator",
        default=None,
        help="orchestrator under test: 'bundled' (default) or a command line",
    )
    group.addoption(
        "--fault-backend",
        default=None,
        help="fault proxy: embedded (default), url, binary or docker",
    )
    group.addoption(
        "--fracas-seed",
        type=int,
        default=None,
        help="seed for the world and the workload (default 0, or FRACAS_SEED)",
    )
    group.addoption(
        "--fracas-report",
        default=None,
        metavar="DIR",
        help="write JSON and HTML reports and replay files to DIR",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fracas(needs=[...]): a chaos scenario; skipped when the orchestrator "
        "lacks a needed capability (crash, restart, pause, review, advance_clock)",
    )


def _seed(config: pytest.Config) -> int:
    value = config.getoption("--fracas-seed")
    if value is not None:
        return int(value)
    env = os.environ.get("FRACAS_SEED", "0")
    try:
        return int(env)
    except ValueError:
        raise pytest.UsageError(f"FRACAS_SEED: expected a whole number, got {env!r}") from None


@pytest.fixture(scope="session")
def fracas_world(pytestconfig: pytest.Config) -> World:
    return build_world(_seed(pytestconfig))


@pytest.fixture(scope="session")
def fracas_topology(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Topology]:
    try:
        spec = resolve_spec(pytestconfig.getoption("--orchestrator"))
    except AdapterError as exc:
        raise pytest.UsageError(str(exc)) from None
    report = pytestconfig.getoption("--fracas-report")
    run_dir = Path(report) / "run" if report else tmp_path_factory.mktemp("fracas-run")
    config = TopologyConfig(
        run_dir=run_dir,
        seed=_seed(pytestconfig),
        fault_backend=pytestconfig.getoption("--fault-backend"),
        orchestrator=spec,
    )
    topo = Topology.start(config)
    try:
        yield topo
    finally:
        topo.stop()


@pytest.fixture(scope="session")
def fracas(pytestconfig: pytest.Config, fracas_topology: Topology) -> Fracas:
    report = pytestconfig.getoption("--fracas-report")
    handle = Fracas(
        fracas_topology,
        seed=_seed(pytestconfig),
        report_dir=Path(report) if report else Path(fracas_topology.config.run_dir),
    )
    pytestconfig.stash[_HANDLE] = handle
    return handle


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """After fixture setup, so the session's handle exists even for the first test."""
    handle = item.config.stash.get(_HANDLE, None)
    if handle is not None:
        handle.current_test = item.name
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
    handle = item.config.stash.get(_HANDLE, None)
    if call.when != "call" or handle is None or _FIRST_RUN not in item.stash:
        return
    rep = made.get_result()  # type: ignore[attr-defined]
    from harness.report.text import ConsistencyError

    exc = call.excinfo.value if call.excinfo is not None else None
    message = call.excinfo.exconly().splitlines()[0][:300] if rep.failed and call.excinfo else ""
    outcomes = item.config.stash.setdefault(OUTCOMES, {})
    last = len(handle.results) - 1
    if rep.failed and not isinstance(exc, ConsistencyError) and last >= item.stash[_FIRST_RUN]:
        run = handle.results[last][1]
        if not run.ok:  # the scenario failed on its own check: show the witness anyway
            rep.sections.append(("fracas witness", run.failure_text()))
    for i in range(item.stash[_FIRST_RUN], last + 1):
        outcomes[i] = TestOutcome(
            test=item.nodeid,
            outcome=rep.outcome,
            message=message,
            violation=isinstance(exc, ConsistencyError),
            final=i == last,
        )


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: Any, right: Any) -> Any:
    """A scenario's own assertion on statuses names the orders and tells their story."""
    from harness.report.assertion import explain_compare

    return explain_compare(op, left, right)


def _session_info(config: pytest.Config, handle: Fracas) -> SessionInfo:
    adapter = handle.orchestrator
    return SessionInfo(
        orchestrator=str(getattr(adapter, "description", adapter.name)),
        seed=handle.seed,
        profile=str(
            config.getoption("hypothesis_profile", None)
            or getattr(hypothesis.settings, "_current_profile", None)
            or "default"
        ),
        fault_backend=handle.topology.backend.name,
        started=config.stash.get(_STARTED, None),
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    import time

    session.config.stash[_STARTED] = time.time()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    handle = session.config.stash.get(_HANDLE, None)
    report = session.config.getoption("--fracas-report")
    if handle is None or not report or not handle.results:
        return
    from harness.report.writer import write_reports

    index = write_reports(
        Path(report),
        handle.results,
        outcomes=session.config.stash.get(OUTCOMES, {}),
        session=_session_info(session.config, handle),
    )
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"fracas report: {index}")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line per chaos run: what happened to the orders, and the verdict."""
    handle = config.stash.get(_HANDLE, None)
    if handle is None or not handle.results:
        return
    from harness.checkers.summary import summarize

    tr = terminalreporter
    tr.section("fracas runs")
    head = (
        f"{'run':<52} {'orders':>6} {'done':>5} {'fail':>5} {'attn':>5} {'faults':>6} "
        f"{'req/order':>9} {'retries':>7}  verdict"
    )
    tr.write_line(head)
    totals = {"runs": 0, "orders": 0, "violations": 0}
    for name, result in handle.results:
        s = summarize(result.snapshot)
        out = s["outcomes"]
        verdict = "consistent" if result.ok else f"{len(result.verdict.violations)} VIOLATION(S)"
        tr.write_line(
            f"{name[:52]:<52} {s['orders']:>6} {out.get('completed', 0):>5} "
            f"{out.get('failed', 0):>5} {out.get('needs_attention', 0):>5} "
            f"{len(result.nemesis.applied):>6} {s['requests']['per_order_mean']:>9.2f} "
            f"{s['requests']['retries_per_order_mean']:>7.2f}  {verdict}",
            red=not result.ok,
        )
        totals["runs"] += 1
        totals["orders"] += s["orders"]
        totals["violations"] += len(result.verdict.violations)
    tr.write_line(
        f"{totals['runs']} runs, {totals['orders']} orders, {totals['violations']} violations"
    )
