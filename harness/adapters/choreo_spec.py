"""Reading a choreography's declaration: ``[tool.fracas.choreography]`` in pyproject.toml,
or the file or folder ``--choreography`` (FRACAS_CHOREOGRAPHY) names.

The table is checked once, here, into plain JSON data (an ``AdapterSpec`` carries it to
xdist workers and replay files as it is), and read back into a ``ChoreographySpec``
by the adapter. Every bad value names its key and what was expected::

    [tool.fracas.choreography]
    view = "orders"            # the participant that answers GET /orders/{id}
    ack_wait = 2               # seconds before an unacked event is delivered again
    max_deliver = 20           # deliveries of one event before the broker gives up
    dedup_window = 120         # seconds a message id is remembered
    broker = "nats://..."      # optional: a running server instead of one fracas starts

    [[tool.fracas.choreography.participants]]
    name = "payment"
    command = ["python", "participant.py", "payment"]
    consumes = ["customer.checked", "inventory.rejected"]
    capabilities = ["crash", "restart", "pause"]   # optional (default these three; the
                                                   # view may add "review")
    env = { KEY = "value" }                        # optional

Beside ``[tool.fracas.orchestrator]`` the same table declares a hybrid: the orchestrator
is the system the harness talks to (it has no ``view``), and the participants act on the
events it publishes (docs/choreography.md#hybrid).
"""

from __future__ import annotations

import re
import shlex
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fracas.fakes.events import BY_NAME
from fracas.harness.adapters.base import AdapterError
from fracas.harness.broker import settings as defaults

PARTICIPANT_CAPABILITIES = frozenset({"crash", "restart", "pause", "review"})
#: What a participant gets when it declares nothing ("review" only if the view says so).
DEFAULT_CAPABILITIES = ("crash", "pause", "restart")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
_TOP = {"view", "ack_wait", "max_deliver", "dedup_window", "broker", "participants",
        "start_timeout"}  # fmt: skip
_ONE = {"name", "command", "consumes", "capabilities", "env"}


@dataclass(frozen=True)
class ParticipantSpec:
    name: str
    command: tuple[str, ...]
    consumes: tuple[str, ...]
    capabilities: frozenset[str]
    env: dict[str, str]


@dataclass(frozen=True)
class ChoreographySpec:
    participants: tuple[ParticipantSpec, ...]
    view: str | None  # None: a hybrid, whose orchestrator answers GET /orders/{id}
    ack_wait: float
    max_deliver: int
    dedup_window: float
    broker: str | None
    cwd: str | None
    hybrid: bool = False

    @staticmethod
    def from_json(data: dict[str, Any]) -> ChoreographySpec:
        return ChoreographySpec(
            participants=tuple(
                ParticipantSpec(p["name"], tuple(p["command"]), tuple(p["consumes"]),
                                frozenset(p["capabilities"]), dict(p["env"]))
                for p in data["participants"]
            ),
            view=data["view"], ack_wait=data["ack_wait"], max_deliver=data["max_deliver"],
            dedup_window=data["dedup_window"], broker=data["broker"], cwd=data.get("cwd"),
            hybrid=bool(data.get("hybrid")),
        )  # fmt: skip


def load(where: str, source: str) -> dict[str, Any]:
    """The table of the pyproject.toml ``where`` names (a file, or a folder holding one)."""
    path = Path(where)
    if path.is_dir():
        path = path / "pyproject.toml"
    if not path.is_file():
        raise AdapterError(f"{source}: expected a pyproject.toml or a folder holding one, "
                           f"got {where!r}")  # fmt: skip
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise AdapterError(f"{path}: not valid TOML ({exc})") from None
    tool = data.get("tool", {}).get("fracas", {})
    table = tool.get("choreography")
    if table is None:
        raise AdapterError(f"{source}: {path} has no [tool.fracas.choreography] table")
    return parse(table, f"{path} [tool.fracas.choreography]", str(path.parent.resolve()),
                 hybrid="orchestrator" in tool)  # fmt: skip


def parse(table: Any, where: str, cwd: str | None, hybrid: bool = False) -> dict[str, Any]:
    """The table checked and completed with defaults, as JSON data. ``hybrid``: beside an
    orchestrator, which is the order view, so no participant is."""
    if not isinstance(table, dict):
        raise AdapterError(f"{where}: expected a table")
    unknown = sorted(set(table) - _TOP)
    if unknown:
        raise AdapterError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(_TOP)}")
    raw = table.get("participants")
    if not isinstance(raw, list) or not raw:
        raise AdapterError(f"{where}.participants: expected a list of participant tables")
    participants = [_participant(p, f"{where}.participants[{i}]") for i, p in enumerate(raw)]
    names = [p["name"] for p in participants]
    if len(set(names)) != len(names):
        raise AdapterError(f"{where}.participants: names must differ, got {names}")
    view = None if hybrid else table.get("view", "orders")
    if hybrid and "view" in table:
        raise AdapterError(f"{where}.view: a hybrid's orchestrator answers GET /orders/{{id}}; "
                           "drop the key")  # fmt: skip
    if not hybrid and view not in names:
        raise AdapterError(f"{where}.view: expected the name of a participant ({', '.join(names)})"
                           f", got {view!r}")  # fmt: skip
    broker = table.get("broker")
    if broker is not None and not (isinstance(broker, str) and broker.startswith("nats://")):
        raise AdapterError(f"{where}.broker: expected a nats:// URL, got {broker!r}")
    return {
        "participants": participants, "view": view, "broker": broker, "cwd": cwd,
        "hybrid": hybrid,
        "ack_wait": _number(table, "ack_wait", defaults.DEFAULT_ACK_WAIT, where, 0.1, 600),
        "max_deliver": int(_number(table, "max_deliver", defaults.DEFAULT_MAX_DELIVER, where,
                                   1, 10_000, whole=True)),
        "dedup_window": _number(table, "dedup_window", defaults.DEFAULT_DEDUP_WINDOW, where,
                                1, 86_400),
    }  # fmt: skip


def _participant(p: Any, where: str) -> dict[str, Any]:
    if not isinstance(p, dict):
        raise AdapterError(f"{where}: expected a table")
    unknown = sorted(set(p) - _ONE)
    if unknown:
        raise AdapterError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(_ONE)}")
    name = p.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise AdapterError(f"{where}.name: expected a short lower-case name, got {name!r}")
    command = p.get("command")
    if isinstance(command, str):
        command = shlex.split(command)
    if not (isinstance(command, list) and command and all(isinstance(a, str) for a in command)):
        raise AdapterError(f"{where}.command: expected a non-empty list of strings or a string")
    consumes = p.get("consumes")
    if not (isinstance(consumes, list) and consumes and all(isinstance(e, str) for e in consumes)):
        raise AdapterError(f"{where}.consumes: expected a list of event names, e.g. "
                           '["order.placed"], or ["*"] for every event')  # fmt: skip
    bad = sorted(e for e in consumes if e != "*" and e not in BY_NAME)
    if bad:
        raise AdapterError(f"{where}.consumes: unknown event(s) {bad}; expected some of "
                           f"{', '.join(BY_NAME)} (or \"*\")")  # fmt: skip
    caps = p.get("capabilities", list(DEFAULT_CAPABILITIES))
    if not (isinstance(caps, list) and set(caps) <= PARTICIPANT_CAPABILITIES):
        raise AdapterError(f"{where}.capabilities: expected some of "
                           f"{sorted(PARTICIPANT_CAPABILITIES)}, got {caps!r}")  # fmt: skip
    env = p.get("env", {})
    if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
        raise AdapterError(f"{where}.env: expected a table of string values")
    return {"name": name, "command": command, "consumes": consumes,
            "capabilities": sorted(caps), "env": env}  # fmt: skip


def _number(table: dict[str, Any], key: str, default: float, where: str, low: float,
            high: float, whole: bool = False) -> float:
    value = table.get(key, default)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    if not ok or (whole and not isinstance(value, int)):
        kind = "a whole number" if whole else "seconds"
        raise AdapterError(f"{where}.{key}: expected {kind} from {low:g} to {high:g}, "
                           f"got {value!r}")  # fmt: skip
    return float(value)


def unparse(data: Any) -> Any:
    """The table ``parse`` made ``data`` from (for reading a replay file back through it)."""
    if not isinstance(data, dict):
        return data
    return {k: v for k, v in data.items() if k not in ("cwd", "hybrid") and v is not None}


def check_runnable(data: dict[str, Any]) -> None:
    """Every participant's command names something that runs, and there is a NATS server
    to start (unless one is given by URL): checked before anything starts, so a typo or a
    missing extra is one message."""
    from fracas.harness.adapters.command import check_command
    from fracas.harness.broker.server import BrokerMissing, find_server

    spec = ChoreographySpec.from_json(data)
    for p in spec.participants:
        argv = list(p.command)
        if argv[0] in ("python", "python3"):
            argv[0] = sys.executable  # as ProcessAdapter runs it
        try:
            check_command(argv, spec.cwd)
        except AdapterError as exc:
            raise AdapterError(f"participant {p.name}: {exc}") from None
    if spec.broker is None:
        try:
            find_server()
        except BrokerMissing as exc:
            raise AdapterError(str(exc)) from None
