"""Which orchestrator to test: `--orchestrator`, then FRACAS_ORCHESTRATOR, then
``[tool.fracas]`` in pyproject.toml, then the bundled one.

A command given on the command line or in the environment can declare what the
pyproject table declares: ``--orchestrator-capabilities crash,restart,review`` (or
FRACAS_ORCHESTRATOR_CAPABILITIES), ``--orchestrator-clock /admin/clock/advance`` (or
FRACAS_ORCHESTRATOR_CLOCK), ``--orchestrator-health /ready`` (or
FRACAS_ORCHESTRATOR_HEALTH) and ``--orchestrator-start-timeout 60`` (or
FRACAS_ORCHESTRATOR_START_TIMEOUT, or ``start_timeout`` in the table). The flags are
rows of the options table (front/options.py); this module reads their variables. A command with
nothing declared gets crash, restart, pause and review, and never ``advance_clock``:
only a declared clock enables review-timeout scenarios.

A spec is ``"bundled"``, a command line (``"python -m myorch --port-from-env"``), or in
pyproject.toml a table::

    [tool.fracas.orchestrator]
    command = ["python", "-m", "myorch"]
    health = "/healthz"              # optional
    clock = "/admin/clock/advance"   # optional: enables advance_clock
    capabilities = ["crash", "restart", "review"]   # optional
    env = { MYORCH_PROFILE = "test" }               # optional
    start_timeout = 60                              # optional: seconds to become healthy
    call_timeout = 10      # optional: seconds it waits on one call to a service before it
                           # gives up (default 5); the search draws waits past it
    quiet_start = true     # optional: it calls no service while starting, so the harness
                           # may start the next run's orchestrator ahead (faster resets)
"""

from __future__ import annotations

import os
import shlex
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fracas.harness.adapters import choreo_spec
from fracas.harness.adapters.base import CAPABILITIES, AdapterError
from fracas.harness.adapters.process import ProcessAdapter

BUNDLED_CLOCK_PATH = "/_admin/clock/advance"
DEFAULT_START_TIMEOUT = 30.0
#: The environment variable this module reads for each field of the spec (the options
#: table in front/options.py names them from here, for the flags and help texts).
ENV_BY_FIELD = {
    "command": "FRACAS_ORCHESTRATOR",
    "health": "FRACAS_ORCHESTRATOR_HEALTH",
    "capabilities": "FRACAS_ORCHESTRATOR_CAPABILITIES",
    "clock": "FRACAS_ORCHESTRATOR_CLOCK",
    "start_timeout": "FRACAS_ORCHESTRATOR_START_TIMEOUT",
    "call_timeout": "FRACAS_ORCHESTRATOR_CALL_TIMEOUT",
    "choreography": "FRACAS_CHOREOGRAPHY",
}
ENV_VARS = tuple(ENV_BY_FIELD.values())
#: The bundled orchestrator's call timeout under ``--profile fast`` (its config.py).
BUNDLED_CALL_TIMEOUT = 1.0


@dataclass(frozen=True)
class Declared:
    """What the command line or environment declares about a command-line orchestrator."""

    capabilities: str | None = None
    clock: str | None = None
    health: str | None = None
    start_timeout: str | float | None = None
    call_timeout: str | float | None = None


@dataclass(frozen=True)
class AdapterSpec:
    """A validated description of the orchestrator to run, and where it came from."""

    command: tuple[str, ...] | None  # None = bundled
    source: str
    health: str = "/healthz"
    clock: str | None = None
    capabilities: frozenset[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    start_timeout: float = DEFAULT_START_TIMEOUT
    #: Where the command runs, so its relative paths hold from any directory (replays).
    cwd: str | None = None
    #: It calls no service while it starts: a spare may boot ahead of the next reset.
    quiet_start: bool = False
    #: Seconds it waits on one call before it gives up; None: not declared.
    call_timeout: float | None = None
    #: A choreography instead of an orchestrator: its checked table as JSON data
    #: (adapters/choreo_spec.py); None: an orchestrator. With ``"hybrid": true`` in it,
    #: beside the orchestrator the rest of the spec describes.
    choreography: dict[str, Any] | None = None

    @property
    def hybrid(self) -> bool:
        """An orchestrator that publishes events, and participants acting on them."""
        return self.choreography is not None and bool(self.choreography.get("hybrid"))

    @property
    def bundled(self) -> bool:
        return self.command is None and (self.choreography is None or self.hybrid)

    def describe(self) -> str:
        if self.hybrid:
            assert self.choreography is not None
            names = ", ".join(p["name"] for p in self.choreography["participants"])
            what = "bundled orchestrator" if self.command is None else " ".join(self.command)
            return f"hybrid: {what} with participants {names} (from {self.source})"
        if self.choreography is not None:
            names = ", ".join(p["name"] for p in self.choreography["participants"])
            return f"choreography of {names} (from {self.source})"
        what = "bundled orchestrator" if self.bundled else " ".join(self.command or ())
        return f"{what} (from {self.source})"

    def to_json(self) -> dict[str, Any]:
        """The spec as resolved, for replay files (data: read back by ``spec_from_json``)."""
        return {
            "command": None if self.command is None else list(self.command),
            "source": self.source,
            "health": self.health,
            "clock": self.clock,
            "capabilities": None if self.capabilities is None else sorted(self.capabilities),
            "env": dict(self.env),
            "start_timeout": self.start_timeout,
            "quiet_start": self.quiet_start,
            "call_timeout": self.call_timeout,
            "cwd": self.cwd or os.getcwd(),
            "choreography": self.choreography,
        }


def bundled_argv(profile: str = "fast") -> list[str]:
    # -P: the user's cwd may hold a folder named fracas (see kit.procs.SAFE_PATH)
    return [sys.executable, "-P", "-m", "fracas.orchestrator", "--profile", profile,
            "--test-clock"]


def resolve_spec(
    option: str | None = None,
    environ: dict[str, str] | None = None,
    pyproject: Path | None = None,
    declared: Declared | None = None,
    choreography: str | None = None,
) -> AdapterSpec:
    """Pick the system under test by precedence; every bad value names its field.

    `declared` holds the ``--orchestrator-*`` options; each falls back to its
    FRACAS_ORCHESTRATOR_* variable, and both override the pyproject table's keys.
    `choreography` (``--choreography``, else FRACAS_CHOREOGRAPHY) names a pyproject.toml
    whose ``[tool.fracas.choreography]`` declares participants instead."""
    environ = dict(os.environ) if environ is None else environ
    where = choreography or environ.get(ENV_BY_FIELD["choreography"], "").strip()
    if where and option:
        raise AdapterError("--orchestrator and --choreography name two systems under test; "
                           "give one (a hybrid declares both tables in one pyproject.toml)")
    if where:
        source = "--choreography" if choreography else ENV_BY_FIELD["choreography"]
        data = choreo_spec.load(where, source)
        if data["hybrid"]:
            return _hybrid(Path(where), source)
        return AdapterSpec(command=None, source=source, cwd=data["cwd"], choreography=data)
    spec = _pick(option, environ, pyproject)
    if spec.choreography is not None:
        return spec
    return _apply_declared(spec, declared or Declared(), environ)


def _pick(option: str | None, environ: dict[str, str], pyproject: Path | None) -> AdapterSpec:
    if option:
        return _from_string(option, "--orchestrator")
    var = ENV_BY_FIELD["command"]
    if environ.get(var):
        return _from_string(environ[var], var)
    path = pyproject if pyproject is not None else _find_pyproject()
    if path is not None and path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise AdapterError(f"{path}: not valid TOML ({exc})") from None
        tool = data.get("tool", {}).get("fracas", {})
        if "choreography" in tool:
            if "orchestrator" in tool:
                return _hybrid(path, f"{path} [tool.fracas] hybrid")
            source = f"{path} [tool.fracas] choreography"
            return AdapterSpec(command=None, source=source, cwd=str(path.parent.resolve()),
                               choreography=choreo_spec.load(str(path), source))
        if "orchestrator" in tool:
            return _from_value(tool["orchestrator"], f"{path} [tool.fracas] orchestrator")
    return AdapterSpec(command=None, source="default")


def _hybrid(where: Path, source: str) -> AdapterSpec:
    """Both tables of one pyproject.toml: the orchestrator, with the participants beside
    it. Its command runs from that folder, as the participants' do."""
    path = where / "pyproject.toml" if where.is_dir() else where
    table = tomllib.loads(path.read_text())["tool"]["fracas"]["orchestrator"]
    spec = _from_value(table, f"{source} orchestrator")
    data = choreo_spec.load(str(path), source)
    return replace(spec, source=source, cwd=data["cwd"], choreography=data)


def _apply_declared(spec: AdapterSpec, declared: Declared, environ: dict[str, str]) -> AdapterSpec:
    """Layer the ``--orchestrator-*`` options (else their variables) over the spec."""
    changes: dict[str, Any] = {}
    for key in ("capabilities", "clock", "health", "start_timeout", "call_timeout"):
        value, var = getattr(declared, key), ENV_BY_FIELD[key]
        where = f"--orchestrator-{key.replace('_', '-')}"
        if value is None and environ.get(var):
            value, where = environ[var], var
        if value is None:
            continue
        if key == "capabilities":
            items = [c.strip() for c in str(value).split(",") if c.strip()]
            changes[key] = _capabilities(items, where)
        elif key in ("clock", "health"):
            changes[key] = _path(value, where)
        else:
            changes[key] = _timeout(value, where)
    if not changes:
        return spec
    if spec.bundled and changes.keys() & {"capabilities", "clock", "health"}:
        raise AdapterError(
            "--orchestrator-capabilities, --orchestrator-clock and --orchestrator-health (and "
            "their FRACAS_ORCHESTRATOR_* variables) describe a command-line orchestrator; the "
            "bundled one declares its own. Give --orchestrator CMD too, or unset them"
        )
    return replace(spec, **changes)


def _capabilities(caps: Any, where: str) -> frozenset[str]:
    if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
        raise AdapterError(f"{where}: expected a list of strings")
    bad = sorted(set(caps) - CAPABILITIES)
    if bad:
        raise AdapterError(f"{where}: unknown {bad}; expected some of {sorted(CAPABILITIES)}")
    return frozenset(caps)


def _path(item: Any, where: str) -> str:
    if not (isinstance(item, str) and item.startswith("/")):
        raise AdapterError(f"{where}: expected a path starting with '/', got {item!r}")
    return item


def _timeout(value: Any, where: str) -> float:
    try:
        seconds = float(value) if not isinstance(value, bool) else -1.0
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise AdapterError(f"{where}: expected seconds from 0 to 3600, got {value!r}")
    return seconds


def _find_pyproject() -> Path | None:
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.exists():
            return candidate
    return None


def _from_string(text: str, source: str) -> AdapterSpec:
    text = text.strip()
    if text in ("", "bundled"):
        return AdapterSpec(command=None, source=source)
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise AdapterError(f"{source}: cannot split {text!r} as a command line ({exc})") from None
    return AdapterSpec(command=tuple(argv), source=source)


def _from_value(value: Any, source: str) -> AdapterSpec:
    if isinstance(value, str):
        return _from_string(value, source)
    if not isinstance(value, dict):
        raise AdapterError(f'{source}: expected "bundled", a command string or a table')
    known = {"command", "health", "clock", "capabilities", "env", "start_timeout", "quiet_start",
             "call_timeout"}  # fmt: skip
    unknown = sorted(set(value) - known)
    if unknown:
        raise AdapterError(f"{source}: unknown key(s) {unknown}; expected some of {sorted(known)}")
    command = value.get("command")
    if isinstance(command, str):
        argv: tuple[str, ...] | None = _from_string(command, source).command
    elif isinstance(command, list) and command and all(isinstance(a, str) for a in command):
        argv = tuple(command)
    else:
        raise AdapterError(f"{source}.command: expected a non-empty list of strings or a string")
    health = _path(value.get("health", "/healthz"), f"{source}.health")
    clock = value.get("clock")
    if clock is not None:
        clock = _path(clock, f"{source}.clock")
    caps = value.get("capabilities")
    capabilities = None if caps is None else _capabilities(caps, f"{source}.capabilities")
    start_timeout = value.get("start_timeout", DEFAULT_START_TIMEOUT)
    start_timeout = _timeout(start_timeout, f"{source}.start_timeout")
    call = value.get("call_timeout")
    call = None if call is None else _timeout(call, f"{source}.call_timeout")
    quiet_start = value.get("quiet_start", False)
    if not isinstance(quiet_start, bool):
        raise AdapterError(f"{source}.quiet_start: expected true or false, got {quiet_start!r}")
    env = value.get("env", {})
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise AdapterError(f"{source}.env: expected a table of string values")
    return AdapterSpec(
        command=argv,
        source=source,
        health=health,
        clock=clock,
        capabilities=capabilities,
        env=dict(env),
        start_timeout=start_timeout,
        quiet_start=quiet_start,
        call_timeout=call,
    )


def spec_from_json(data: Any, where: str) -> AdapterSpec:
    """Read back ``AdapterSpec.to_json`` (from a replay file), every field checked."""
    if not isinstance(data, dict):
        raise AdapterError(f"{where}: expected an object")
    if data.get("choreography") is not None:
        inner = data["choreography"]
        cwd = inner.get("cwd") if isinstance(inner, dict) else None
        cwd = cwd if isinstance(cwd, str) else None
        table = choreo_spec.unparse(inner)
        hybrid = isinstance(inner, dict) and inner.get("hybrid") is True
        choreo = choreo_spec.parse(table, f"{where}.choreography", cwd, hybrid=hybrid)
        if hybrid:
            outer = spec_from_json({**data, "choreography": None}, where)
            return replace(outer, cwd=cwd, choreography=choreo)
        return AdapterSpec(command=None, source=where, cwd=cwd, choreography=choreo)
    if data.get("command") is None:
        return AdapterSpec(command=None, source=where)
    table = {k: data[k] for k in ("command", "health", "clock", "capabilities", "env",
                                  "start_timeout", "quiet_start", "call_timeout")
             if data.get(k) is not None}
    cwd = data.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise AdapterError(f"{where}.cwd: expected a directory path, got {cwd!r}")
    return replace(_from_value(table, where), cwd=cwd)


def adapter_from_spec(spec: AdapterSpec) -> ProcessAdapter:
    """Build the adapter a spec describes (the bundled orchestrator is a process too)."""
    if spec.bundled:
        # A hybrid's bundled orchestrator publishes its end events (FRACAS_BROKER_URL is
        # given to it by the hybrid adapter).
        adapter = ProcessAdapter(
            bundled_argv() + (["--events"] if spec.hybrid else []),
            name="orchestrator",
            clock_path=BUNDLED_CLOCK_PATH,
            capabilities=frozenset({"crash", "restart", "pause", "review"}),
            quiet_start=True,  # an empty state dir: nothing to recover, nobody to call
            call_timeout=spec.call_timeout or BUNDLED_CALL_TIMEOUT,
        )
        adapter.description = "bundled orchestrator (--profile fast --test-clock)"
        return adapter
    assert spec.command is not None
    return ProcessAdapter(
        spec.command,
        name="orchestrator",
        health_path=spec.health,
        clock_path=spec.clock,
        env=spec.env,
        capabilities=spec.capabilities,
        cwd=spec.cwd,
        quiet_start=spec.quiet_start,
        call_timeout=spec.call_timeout,
    )
