"""The options of one run, resolved once: the orchestrator's ``AdapterSpec`` and the run
settings, each from its flag, else its environment variable, else pyproject.toml.

``fracas run`` resolves a ``RunSpec`` for its preflight check and hands that very object
to the pytest session (``Handed``, a plugin object), and the session hands it on to its
xdist workers as data (``to_data``), so no process parses the options a second time
and every process tests the same orchestrator. A plain ``pytest`` resolves its own,
from pytest's flags, with this same code.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from fracas.harness.adapters import AdapterError, resolve_spec
from fracas.harness.adapters.select import AdapterSpec, Declared
from fracas.harness.front.options import BY_NAME, OPTIONS
from fracas.harness.front.shard import WHOLE, Shard, ShardError, shard_from
from fracas.harness.kit.timescale import TimeScaleError, parse_scale

PROFILES = ("ci", "dev", "soak")


class OptionError(ValueError):
    """A value that cannot be used; the message starts with the flag or variable."""


@dataclass(frozen=True)
class RunSpec:
    orchestrator: AdapterSpec
    fault_backend: str | None = None
    seed: int = 0
    #: The report folder; None: none (plain pytest without --fracas-report).
    report: str | None = None
    #: The Hypothesis profile ``fracas run`` chose; None: whatever pytest loaded.
    profile: str | None = None
    shard: Shard = WHOLE
    #: Slices per property scenario; None: the profile's default.
    slices: int | None = None
    time_scale: float | None = None

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data, for xdist's workerinput."""
        spec = {f.name: getattr(self.orchestrator, f.name) for f in fields(AdapterSpec)}
        spec["command"] = None if spec["command"] is None else list(spec["command"])
        caps = spec["capabilities"]
        spec["capabilities"] = None if caps is None else sorted(caps)
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**data, "orchestrator": spec, "shard": [self.shard.index, self.shard.count]}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RunSpec:
        spec = dict(data["orchestrator"])
        if spec["command"] is not None:
            spec["command"] = tuple(spec["command"])
        if spec["capabilities"] is not None:
            spec["capabilities"] = frozenset(spec["capabilities"])
        return cls(**{**data, "orchestrator": AdapterSpec(**spec),
                      "shard": Shard(*data["shard"])})  # fmt: skip


def resolve(
    given: Mapping[str, str | None],
    pytest_flags: bool = False,
    environ: Mapping[str, str] | None = None,
    pyproject: Path | None = None,
) -> RunSpec:
    """The spec ``given`` (option name -> the flag's text, or None) and the environment
    choose. Errors name the flag as the user spelled it (``pytest_flags``: pytest's)."""
    env = dict(os.environ if environ is None else environ)

    def pick(name: str) -> tuple[str | None, str]:
        option = BY_NAME[name]
        flag = (option.pytest if pytest_flags else None) or option.cli
        text = given.get(name)
        if text is not None:
            return text, flag
        if option.env and env.get(option.env, "").strip():
            return env[option.env], option.env
        return None, flag

    declared = {o.spec_field: given.get(o.name) for o in OPTIONS
                if o.spec_field not in (None, "command")}  # fmt: skip
    try:
        orchestrator = resolve_spec(given.get("orchestrator"), env, pyproject,
                                    Declared(**declared), given.get("choreography"))  # fmt: skip
        shard = shard_from(given.get("shard"), env)
        scale, where = pick("time_scale")
        time_scale = None if scale is None else parse_scale(scale, where)
    except (AdapterError, ShardError, TimeScaleError) as exc:
        raise OptionError(str(exc)) from None
    return RunSpec(
        orchestrator=orchestrator,
        fault_backend=_choice(*pick("fault_backend"), _backends()),
        seed=_number(*pick("seed"), least=0) or 0,
        report=given.get("report"),
        profile=_choice(*pick("profile"), PROFILES) or ("ci" if "profile" in given else None),
        shard=shard,
        slices=_number(*pick("slices"), least=1),
        time_scale=time_scale,
    )


def _backends() -> tuple[str, ...]:
    from fracas.harness.backends import backend_names

    return backend_names()


def _choice(text: str | None, where: str, choices: tuple[str, ...]) -> str | None:
    if text is None:
        return None
    value = text.strip().lower()
    if value in choices:
        return value
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f". Did you mean {close[0]!r}?" if close else ""
    raise OptionError(f"{where}: expected one of {', '.join(choices)}, got {text!r}{hint}")


def _number(text: str | None, where: str, least: int) -> Any:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise OptionError(f"{where}: expected a whole number, got {text!r}") from None
    if value < least:
        raise OptionError(f"{where}: expected {least} or more, got {value}")
    return value


class Handed:
    """A pytest plugin object that carries ``fracas run``'s spec into its session."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
