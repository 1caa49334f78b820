"""The one table of fracas's orchestrator and run options.

Each option used to be written twice, as an ``add_argument`` in the CLI and an
``addoption`` in the pytest plugin, with help texts and environment lookups that drifted
apart. Here each is one row: its flag for ``fracas run``/``replay``/``up``, its flag
under plain pytest, its help, its environment variable and ``[tool.fracas.orchestrator]``
key, and its default per command. ``add_to_argparse`` and ``add_to_pytest`` build the
two parsers from the rows; ``front.runspec`` resolves the values (flag, then variable,
then pyproject) once into a ``RunSpec``.

Every value is read as a string here and checked in one place (``front.runspec``), so
a bad value gets the same message from the CLI, from pytest and from the environment.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fracas.harness.adapters.select import ENV_BY_FIELD


@dataclass(frozen=True)
class Option:
    """One option. ``name`` is its key in the parsed values (and in ``RunSpec``)."""

    name: str
    #: Its flag for the fracas commands (``fracas run --seed``).
    cli: str
    #: Its flag under plain pytest; None: pytest has its own (``--hypothesis-profile``).
    pytest: str | None
    help: str
    metavar: str
    #: The environment variable read when the flag is not given.
    env: str | None = None
    #: Its key in ``[tool.fracas.orchestrator]``, read when neither is given.
    pyproject: str | None = None
    #: The fracas commands that take it, and the default each gives it.
    commands: Mapping[str, str | None] = field(
        default_factory=lambda: {"run": None, "replay": None, "up": None}
    )
    #: The ``AdapterSpec`` field it declares (the orchestrator's options).
    spec_field: str | None = None

    def flags(self) -> tuple[str, ...]:
        """Every spelling ``fracas run`` accepts: its own, and pytest's for habit's sake."""
        return (self.cli,) if self.pytest in (None, self.cli) else (self.cli, self.pytest)

    def sources(self) -> str:
        """Where else the value may come from, for the help text."""
        where = [w for w in (self.env, self.pyproject and f"[tool.fracas.orchestrator] "
                             f"{self.pyproject}") if w]  # fmt: skip
        return f" (or {', or '.join(where)})" if where else ""


def _orchestrator(key: str, metavar: str, text: str) -> Option:
    flag = f"--orchestrator-{key.replace('_', '-')}"
    if key == "command":
        flag = "--orchestrator"
    name = "orchestrator" if key == "command" else key
    return Option(name, flag, flag, text, metavar, env=ENV_BY_FIELD[key], pyproject=key,
                  spec_field=key)


OPTIONS: tuple[Option, ...] = (
    _orchestrator("command", "CMD", "'bundled' (default) or the command line of the "
                  "orchestrator under test"),
    _orchestrator("health", "PATH", "with a command: its health endpoint (default /healthz)"),
    _orchestrator("capabilities", "LIST", "with a command: what it supports, e.g. "
                  "crash,restart,review (default crash,restart,pause,review; never "
                  "advance_clock without a clock)"),
    _orchestrator("clock", "PATH", 'with a command: its clock endpoint (POST {"seconds": N});'
                  " enables review timeouts"),
    _orchestrator("start_timeout", "SECONDS", "how long it may take to become healthy "
                  "(default 30)"),
    _orchestrator("call_timeout", "SECONDS", "how long it waits on one call to a service "
                  "before it gives up (default 5; the search draws waits past it)"),
    Option("choreography", "--choreography", "--choreography", "a pyproject.toml (or its "
           "folder) whose [tool.fracas.choreography] declares participants to test instead "
           "of an orchestrator (docs/choreography.md)", "PATH", env=ENV_BY_FIELD["choreography"]),
    Option("fault_backend", "--fault-backend", "--fault-backend", "fault proxy: embedded "
           "(default), url (TOXIPROXY_URL), binary or docker", "B", env="FRACAS_FAULT_BACKEND"),
    Option("seed", "--seed", "--fracas-seed", "world and workload seed (default 0)", "S",
           env="FRACAS_SEED"),
    Option("report", "--report", "--fracas-report", "directory for the JSON and HTML "
           "reports and the replay files", "DIR",
           commands={"run": "fracas-report", "replay": "fracas-report/replay"}),
    Option("profile", "--profile", None, "how many property-based examples: ci (a few), "
           "dev (20), soak (500); default ci", "P", env="FRACAS_PROFILE",
           commands={"run": None}),
    Option("shard", "--shard", "--shard", "run only shard K of N of the suite (every N-th "
           "test; or JOB_COMPLETION_INDEX with FRACAS_SHARD_COUNT); merge with fracas "
           "report merge", "K/N", env="FRACAS_SHARD", commands={"run": None}),
    Option("slices", "--slices", "--fracas-slices", "Hypothesis slices per property "
           "scenario, shared by workers and shards (default by profile: ci 2, dev 4, "
           "soak 8); at least workers x machines", "S", env="FRACAS_SLICES",
           commands={"run": None}),
    Option("time_scale", "--time-scale", "--fracas-time-scale", "stretch the harness's "
           "deadlines (settle, health, lost order) by X under load (default xdist workers "
           "per CPU core, at least 1)", "X", env="FRACAS_TIME_SCALE", commands={"run": None}),
)
BY_NAME = {o.name: o for o in OPTIONS}


def for_command(command: str) -> list[Option]:
    return [o for o in OPTIONS if command in o.commands]


def add_to_argparse(parser: argparse.ArgumentParser, command: str) -> None:
    """The rows ``command`` takes, each under both spellings."""
    for option in for_command(command):
        default = option.commands[command]
        after = f"; default {default}" if default else ""
        parser.add_argument(
            *option.flags(), dest=option.name, default=default, metavar=option.metavar,
            help=f"{option.help}{option.sources()}{after}",
        )


class PytestGroup(Protocol):
    def addoption(self, *opts: str, **attrs: Any) -> None: ...


def add_to_pytest(group: PytestGroup) -> None:
    """The rows pytest spells its own way (the rest are ``fracas run``'s only)."""
    for option in OPTIONS:
        if option.pytest is not None:
            group.addoption(option.pytest, dest=f"fracas_{option.name}", default=None,
                            metavar=option.metavar, help=option.help + option.sources())


def values_from_pytest(getoption: Any) -> dict[str, str | None]:
    """The values pytest parsed, by option name (None: not given)."""
    return {o.name: getoption(f"fracas_{o.name}") for o in OPTIONS if o.pytest is not None}


def environment_help(options: Iterable[Option]) -> str:
    """The epilog of a command's help: what it reads besides its options."""
    listed = list(options)
    env = ", ".join(o.env for o in listed if o.env)
    keys = ", ".join(o.pyproject for o in listed if o.pyproject)
    return (
        f"environment: {env}; TOXIPROXY_URL (url backend). pyproject.toml: the "
        f"[tool.fracas.orchestrator] table ({keys}, env, quiet_start) of the nearest "
        "pyproject.toml. Options beat the environment, which beats pyproject.toml."
    )
