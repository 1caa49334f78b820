"""Which orchestrator to test: `--orchestrator`, then FRACAS_ORCHESTRATOR, then
``[tool.fracas]`` in pyproject.toml, then the bundled one.

A spec is ``"bundled"``, a command line (``"python -m myorch --port-from-env"``), or in
pyproject.toml a table::

    [tool.fracas.orchestrator]
    command = ["python", "-m", "myorch"]
    health = "/healthz"              # optional
    clock = "/admin/clock/advance"   # optional: enables advance_clock
    capabilities = ["crash", "restart", "review"]   # optional
    env = { MYORCH_PROFILE = "test" }               # optional
"""

from __future__ import annotations

import os
import shlex
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.adapters.base import CAPABILITIES, AdapterError
from harness.adapters.process import ProcessAdapter

BUNDLED_CLOCK_PATH = "/_admin/clock/advance"


@dataclass(frozen=True)
class AdapterSpec:
    """A validated description of the orchestrator to run, and where it came from."""

    command: tuple[str, ...] | None  # None = bundled
    source: str
    health: str = "/healthz"
    clock: str | None = None
    capabilities: frozenset[str] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def bundled(self) -> bool:
        return self.command is None

    def describe(self) -> str:
        what = "bundled orchestrator" if self.bundled else " ".join(self.command or ())
        return f"{what} (from {self.source})"


def bundled_argv(profile: str = "fast") -> list[str]:
    return [sys.executable, "-m", "orchestrator", "--profile", profile, "--test-clock"]


def resolve_spec(
    option: str | None = None,
    environ: dict[str, str] | None = None,
    pyproject: Path | None = None,
) -> AdapterSpec:
    """Pick the orchestrator by precedence; every bad value names its field."""
    environ = dict(os.environ) if environ is None else environ
    if option:
        return _from_string(option, "--orchestrator")
    if environ.get("FRACAS_ORCHESTRATOR"):
        return _from_string(environ["FRACAS_ORCHESTRATOR"], "FRACAS_ORCHESTRATOR")
    path = pyproject if pyproject is not None else _find_pyproject()
    if path is not None and path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise AdapterError(f"{path}: not valid TOML ({exc})") from None
        tool = data.get("tool", {}).get("fracas", {})
        if "orchestrator" in tool:
            return _from_value(tool["orchestrator"], f"{path} [tool.fracas] orchestrator")
    return AdapterSpec(command=None, source="default")


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
    known = {"command", "health", "clock", "capabilities", "env"}
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
    health = value.get("health", "/healthz")
    clock = value.get("clock")
    for key, item in (("health", health), ("clock", clock)):
        if item is not None and not (isinstance(item, str) and item.startswith("/")):
            raise AdapterError(f"{source}.{key}: expected a path starting with '/', got {item!r}")
    caps = value.get("capabilities")
    capabilities = None
    if caps is not None:
        if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
            raise AdapterError(f"{source}.capabilities: expected a list of strings")
        bad = sorted(set(caps) - CAPABILITIES)
        if bad:
            raise AdapterError(
                f"{source}.capabilities: unknown {bad}; expected some of {sorted(CAPABILITIES)}"
            )
        capabilities = frozenset(caps)
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
    )


def adapter_from_spec(spec: AdapterSpec) -> ProcessAdapter:
    """Build the adapter a spec describes (the bundled orchestrator is a process too)."""
    if spec.bundled:
        adapter = ProcessAdapter(
            bundled_argv(),
            name="orchestrator",
            clock_path=BUNDLED_CLOCK_PATH,
            capabilities=frozenset({"crash", "restart", "pause", "review"}),
            quiet_start=True,  # an empty state dir: nothing to recover, nobody to call
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
    )
