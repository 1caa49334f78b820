"""Run the property scenarios alone against a planted bug of the naive example orchestrator,
and read back from the report what the search found, how fast, and how small it shrank.

The planted bugs are public (``examples/naive_orchestrator.py --bug NAME``), so this is
how fracas shows that its property search finds hard bugs on its own: the test
``tests/harness/test_planted_bugs.py`` and the table ``bench/search.py`` both use it.

Each search is a real ``fracas run`` in a child process, in a directory of its own: a
``pyproject.toml`` there declares the naive orchestrator with its test clock (so review
timeouts are drawn), and a fresh Hypothesis database keeps one search from starting with
another's failures. Times come from the runs' JSON reports, one per example.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fracas

#: ``examples/naive_orchestrator.py``, which the wheel ships as ``fracas/examples/`` (a link
#: in a checkout, resolved so commands name the documented path): an installed fracas has
#: no checkout to find it in.
NAIVE = (Path(fracas.__file__).parent / "examples" / "naive_orchestrator.py").resolve()
NAIVE_CLOCK = "/_admin/clock/advance"

#: Each planted bug and the rules that name it (the first is the one its docstring gives;
#: the others are the same mistake seen on another step).
RULES: dict[str, tuple[str, ...]] = {
    "no-idempotency": ("double-charge",),
    "no-compensation": ("failed-ledger",),
    "optimistic": ("completed-ledger",),
    "bad-report": ("reported-truth",),
    "amnesia": ("liveness",),
    "probe": ("orphan-effects",),
    "give-up": ("needs-attention",),
    # A retry under a new key after a late commit holds stock twice; on an order that
    # then fails, one hold stays (failed-ledger; the naive with no bug passes that case).
    "key-per-attempt": ("double-charge", "completed-ledger", "failed-ledger"),
    "unkeyed-notify": ("completed-ledger", "failed-ledger"),
    "first-5xx": ("failed-ledger", "completed-ledger"),
    "review-timeout": ("liveness",),
    "line-by-line": ("completed-ledger", "failed-ledger"),
    # A garbled capture answer taken as done: its order fails or completes with the
    # ledger against it, or completes reporting the garbage's payment id (a held-out
    # search found it so, and the bench counted it missed; the naive with no bug passes).
    "trust-answers": ("failed-ledger", "completed-ledger", "reported-truth"),
    "timeout-declined": ("failed-ledger",),
    "resume-once": ("liveness",),
    "resume-pending": ("liveness",),
    "fail-first": ("failed-ledger",),
    "confirm-early": ("failed-ledger",),
    "customer-key": ("completed-ledger", "failed-ledger"),
    # Inputs that arrive twice or changed (issue 22): held out of any tuning.
    # It answers 200 to the opposite decision after the first took (input-answers; the
    # naive with no bug answers 409 to the same case), then undoes the order.
    "review-twice": ("input-effects", "failed-ledger", "completed-ledger", "input-answers"),
    # It answers 202 to another body under a known id, where the contract says 409
    # (input-answers; replayed against the naive with no bug, the same case: 0 of 2).
    "resubmit": ("input-effects", "failed-ledger", "completed-ledger", "input-answers"),
}


#: The bundled choreography's planted defects (examples/choreography/runtime.py, each
#: planted in every participant) and the rules that name them.
CHOREO_RULES: dict[str, tuple[str, ...]] = {
    # ack before the effect: a crash in between loses the step, and the order stalls
    "ack-first": ("liveness", "failed-ledger", "completed-ledger"),
    # a redelivered event acts twice
    "no-dedup": ("double-charge", "completed-ledger", "failed-ledger"),
    # a failure or compensation event published after the ack: a crash loses it
    "no-outbox": ("liveness", "failed-ledger", "completed-ledger"),
    # a refund that finds no capture forgets it, so a capture after it is never undone
    "cancel-first": ("failed-ledger", "completed-ledger"),
    # a publish retried without its message id: the broker stores the event twice
    "retry-no-msgid": ("event-stored-once",),
}
#: The bundled hybrid's planted defect (the bundled orchestrator's ``--bug``) and the
#: rules that name it.
HYBRID_RULES: dict[str, tuple[str, ...]] = {
    # the end event published from memory after the commit: a crash loses it, and the
    # ended order's notification with it
    "events-no-outbox": ("completed-ledger", "failed-ledger"),
}
#: The bundled choreography and hybrid, in a checkout (the wheel does not ship them).
CHOREOGRAPHY = Path(__file__).resolve().parents[2] / "examples" / "choreography"
HYBRID = CHOREOGRAPHY.parent / "hybrid"


def _example(folder: Path, what: str, bugs: tuple[str, ...],
             rules: dict[str, tuple[str, ...]]) -> dict[str, Any]:  # fmt: skip
    """The ``[tool.fracas]`` table of a bundled example that plants ``bugs``."""
    import tomllib

    source = folder / "pyproject.toml"
    if not source.is_file():
        raise CannotSearch(f"no bundled {what} at {folder}: run from a checkout")
    unknown = sorted(set(bugs) - set(rules))
    if unknown:
        raise ValueError(f"bug: expected some of {', '.join(rules)}, got {unknown}")
    tool: dict[str, Any] = tomllib.loads(source.read_text())["tool"]["fracas"]
    return tool


def _choreography_lines(table: dict[str, Any],
                        command: Callable[[list[str]], list[str]]) -> list[str]:  # fmt: skip
    """A ``[tool.fracas.choreography]`` table, each participant's command as ``command``
    makes it from the example's."""
    lines = ["[tool.fracas.choreography]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in table.items() if k != "participants"]
    for part in table["participants"]:
        lines += ["", "[[tool.fracas.choreography.participants]]"]
        lines += [f"{k} = {json.dumps(command(v) if k == 'command' else v)}"
                  for k, v in part.items()]  # fmt: skip
    return lines


def prepare_choreography(work: Path, bugs: tuple[str, ...]) -> None:
    """A directory whose pyproject.toml declares the bundled choreography, every
    participant started with ``--bug`` for each of ``bugs``."""
    table = _example(CHOREOGRAPHY, "choreography", bugs, CHOREO_RULES)["choreography"]
    flags = [a for bug in bugs for a in ("--bug", bug)]
    lines = _choreography_lines(table, lambda cmd: [
        sys.executable, str(CHOREOGRAPHY / "participant.py"), cmd[-1], *flags])  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    (work / "pyproject.toml").write_text("\n".join(lines) + "\n")


def prepare_hybrid(work: Path, bugs: tuple[str, ...]) -> None:
    """A directory whose pyproject.toml declares the bundled hybrid, its orchestrator
    started with ``--bug`` for each of ``bugs``, its participants from the example."""
    tool = _example(HYBRID, "hybrid", bugs, HYBRID_RULES)
    orch = dict(tool["orchestrator"])
    orch["command"] = [sys.executable, *orch["command"][1:]] + [
        a for bug in bugs for a in ("--bug", bug)]  # fmt: skip
    lines = ["[tool.fracas.orchestrator]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in orch.items()]
    lines += ["", *_choreography_lines(tool["choreography"], lambda cmd: [
        sys.executable, str(HYBRID / cmd[1]), *cmd[2:]])]  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    (work / "pyproject.toml").write_text("\n".join(lines) + "\n")


@dataclass(frozen=True)
class Example:
    """One property example as the report recorded it."""

    t0: float
    seconds: float
    rules: frozenset[str]
    orders: int
    faults: int
    replay: dict[str, Any] = field(repr=False, hash=False, compare=False)
    run: str = ""  # the run's name: its report and replay files are named for it

    @property
    def ok(self) -> bool:
        return not self.rules


@dataclass
class Search:
    """What one property search against one bug (or none) found."""

    bugs: tuple[str, ...]
    seed: int
    profile: str
    started: float
    wall: float
    returncode: int | None  # None: stopped at the time limit
    examples: list[Example] = field(default_factory=list)
    log: str = ""

    @property
    def expected(self) -> tuple[str, ...]:
        return tuple(r for b in self.bugs for r in {**RULES, **CHOREO_RULES, **HYBRID_RULES}[b])

    @property
    def first(self) -> tuple[int, Example] | None:
        """The first example (1-based count) whose verdict names an expected rule."""
        for i, ex in enumerate(self.examples, 1):
            if ex.rules & set(self.expected):
                return i, ex
        return None

    @property
    def seconds_to_find(self) -> float | None:
        found = self.first
        return None if found is None else found[1].t0 + found[1].seconds - self.started

    @property
    def shrunk(self) -> Example | None:
        """The case the scenario reported (its failure names the replay file), else the
        last failing example: Hypothesis runs its shrunk case last."""
        failing = [ex for ex in self.examples if not ex.ok]
        named = re.findall(r"^E\s+replay: \S*fracas replay \S*?([^/\s]+)\.json$", self.log, re.M)
        reported = [ex for ex in failing if named and ex.run == named[-1]]
        cases = reported or failing
        return cases[-1] if cases else None

    @property
    def violations(self) -> int:
        return sum(len(ex.rules) for ex in self.examples)

    @property
    def flaky(self) -> bool:
        """The search ended in Hypothesis's FlakyFailure itself (the log prints the
        scenario's source, which names FlakyFailure, so only its error lines count)."""
        errors = [ln for ln in self.log.splitlines() if ln.startswith("E ")]
        summary = self.log.split("short test summary")[-1]
        return any("FlakyFailure" in ln for ln in errors if not self.unshrunk) or (
            "Flaky" in summary and not self.unshrunk
        )

    @property
    def unshrunk(self) -> bool:
        """Found, but it did not happen again when Hypothesis replayed it, so it was
        reported with its first witness instead of shrunk (scenarios/test_properties.py)."""
        return "did not reproduce when Hypothesis replayed it" in self.log

    @property
    def nemesis_error(self) -> bool:
        return "NemesisError" in self.log


def naive_command(bugs: tuple[str, ...]) -> list[str]:
    argv = [sys.executable, str(NAIVE)]
    for bug in bugs:
        if bug not in RULES:
            raise ValueError(f"bug: expected one of {', '.join(RULES)}, got {bug!r}")
        argv += ["--bug", bug]
    return argv


def prepare(work: Path, bugs: tuple[str, ...]) -> None:
    """A directory whose pyproject.toml declares the naive orchestrator and its clock."""
    work.mkdir(parents=True, exist_ok=True)
    command = json.dumps(naive_command(bugs))
    (work / "pyproject.toml").write_text(
        "[tool.fracas.orchestrator]\n"
        f"command = {command}\n"
        f'clock = "{NAIVE_CLOCK}"\n'
        'capabilities = ["crash", "restart", "pause", "review"]\n'
        "call_timeout = 5\n"  # its CALL_TIMEOUT (examples/naive_orchestrator.py)
        # Every bug but `probe` calls nobody while starting, so resets may use a spare.
        + ("" if "probe" in bugs else "quiet_start = true\n")
    )


#: The fracas CLI with Ctrl-C's KeyboardInterrupt back. A command started in the
#: background by a non-interactive shell (``cmd &``, nohup) inherits SIGINT ignored, and
#: Python keeps it so; the SIGINT below would then do nothing, and the reports of the
#: examples run so far would be lost with the SIGTERM after it.
CLI_WITH_CTRL_C = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'fracas'; runpy.run_module('fracas.harness.front.cli', run_name='__main__')"
)


#: The process groups of the fracas runs under way (``stop_all``).
_RUNNING: set[int] = set()
_RUNNING_LOCK = threading.Lock()


def stop_all() -> None:
    """End every fracas run this process started. Each runs in a session of its own (so
    that a time limit can stop its whole group), which a signal to the bench does not
    reach: killed, the bench left its pytest and that pytest's topology running."""
    with _RUNNING_LOCK:
        groups = sorted(_RUNNING)
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def _fracas(work: Path, args: list[str], timeout: float,
            stop_when: Callable[[], bool] | None = None) -> tuple[int | None, str]:  # fmt: skip
    """Run the fracas CLI in `work`. On the time limit, or once ``stop_when`` holds,
    interrupt it as Ctrl-C would, so pytest ends the session and writes the reports of
    the examples it ran; then stop its whole process group if it lingers."""
    env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(work / "hypothesis")}
    env.pop("FRACAS_ORCHESTRATOR", None)
    with open(work / "fracas.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-c", CLI_WITH_CTRL_C, *args],
            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        with _RUNNING_LOCK:
            _RUNNING.add(proc.pid)
        try:
            code = _wait(proc, timeout, stop_when)
            if code is None:
                for sig, grace in ((signal.SIGINT, 60), (signal.SIGTERM, 20), (signal.SIGKILL, 20)):
                    os.killpg(proc.pid, sig)
                    try:
                        proc.wait(grace)
                        break
                    except subprocess.TimeoutExpired:
                        continue
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(proc.pid)
    return code, (work / "fracas.log").read_text(errors="replace")


def _wait(proc: subprocess.Popen[bytes], timeout: float,
          stop_when: Callable[[], bool] | None) -> int | None:  # fmt: skip
    """The exit code, or None at the time limit or once ``stop_when`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            return proc.wait(left if stop_when is None else min(left, 0.5))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline or (stop_when is not None and stop_when()):
                return None


class CannotSearch(RuntimeError):
    """This Python cannot run fracas (not the project's venv, say): every search would
    end at once with no example, which a table would show as "not found"."""


@functools.cache
def check_runnable() -> None:
    """Fail once, with what to do, when ``sys.executable`` cannot import fracas's CLI. It
    asks from an empty folder: from a checkout (or its parent) a folder named ``fracas``
    on the path would answer instead of what this Python has installed."""
    with tempfile.TemporaryDirectory(prefix="fracas-check-") as empty:
        done = subprocess.run(
            [sys.executable, "-P", "-c", "import fracas.harness.front.cli"],
            capture_output=True, text=True, cwd=empty, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise CannotSearch(
            f"{sys.executable} cannot run fracas ({last}); run this with the project's "
            "venv, .venv/bin/python (python3 dev.py test makes it)"
        )


def search(
    bugs: tuple[str, ...],
    work: Path,
    seed: int = 0,
    profile: str = "dev",
    keyword: str = "test_properties",
    timeout: float = 900.0,
    setup: Callable[[Path, tuple[str, ...]], None] | None = None,
    stop_when: Callable[[], bool] | None = None,
) -> Search:
    """One property search (`fracas run -k test_properties`) with seed `seed`: the run's
    (world, workload and coverage plan) and Hypothesis's. With Hypothesis's seed alone,
    every seed walked the plan's packs in one order, and a bug found at example 12 was
    found there on every seed: five seeds measured one plan. ``setup`` writes the system
    under test's pyproject.toml into ``work`` (default ``prepare``: the naive orchestrator);
    ``stop_when`` ends it early, as the time limit does."""
    check_runnable()
    (setup or prepare)(work, bugs)
    report = work / "report"
    started = time.time()
    code, log = _fracas(
        work,
        # One slice: a search for a bug is one stream that stops at its first failure.
        ["run", "--profile", profile, "-k", keyword, "--report", str(report), "--slices", "1",
         "--seed", str(seed), "--", f"--hypothesis-seed={seed}"],
        timeout, stop_when,
    )  # fmt: skip
    result = Search(bugs, seed, profile, started, time.time() - started, code, log=log)
    result.examples = read_examples(report)
    return result


def read_examples(report: Path) -> list[Example]:
    """Every run's JSON report in `report`, in the order the runs started."""
    out: list[Example] = []
    for path in report.glob("*.json"):
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        replay = data.get("replay")
        if not isinstance(replay, dict) or "t0" not in data:
            continue
        timings = (data.get("meta") or {}).get("timings") or {}
        seconds = sum(float(timings.get(k) or 0) for k in ("submit", "workload", "settle", "check"))
        rules = frozenset(str(v[0]) for v in replay.get("violations") or [])
        out.append(Example(
            float(data["t0"]), seconds, rules, len(replay.get("orders") or []),
            len((replay.get("schedule") or {}).get("faults") or []), replay, path.stem,
        ))  # fmt: skip
    return sorted(out, key=lambda ex: ex.t0)


def replay(bugs: tuple[str, ...], example: Example, work: Path, times: int = 5,
           timeout: float = 900.0,
           setup: Callable[[Path, tuple[str, ...]], None] | None = None) -> int:
    """Write the example's replay file and run `fracas replay FILE --times N` on it; how
    many of the N runs reproduced its violations."""
    (setup or prepare)(work, bugs)
    file = work / "case.json"
    file.write_text(json.dumps(example.replay, indent=1))
    _, log = _fracas(
        work, ["replay", str(file), "--times", str(times), "--report", str(work / "replay")],
        timeout,
    )  # fmt: skip
    return sum(1 for line in log.splitlines() if ": reproduced" in line
               and line.startswith("fracas: run "))
