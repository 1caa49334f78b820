"""What an HTTP fault action is: the settings its JSON takes, what the journal records
about it, and what it does to a request before and after the commit.

One action per module of ``fracas.fakes.actions`` (like a toxic); the module's name is the
action's ``kind``, so ``fracas.fakes.contract`` can list the kinds without importing them.
Its settings are declared as data (``contract.Setting``), which is what lets the harness
build the matching fault kind on its own: a new action is one new file (docs/extending.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from fracas.fakes import contract, wire
from fracas.fakes.contract import REQUIRED, Setting
from fracas.fakes.service import Answer

Headers = list[tuple[bytes, bytes]]


class RuleError(ValueError):
    """A rule that cannot be used; `field` names where, the message says what was expected."""

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(f"{field}: {expected}")
        self.field = field
        self.expected = expected


def _range(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f" from {lo} to {hi}"
    if lo is not None:
        return f" >= {lo}"
    return f" <= {hi}" if hi is not None else ""


def int_field(value: Any, where: str, lo: float | None, hi: float | None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (lo is not None and value < lo)
        or (hi is not None and value > hi)
    ):
        raise RuleError(where, f"expected an integer{_range(lo, hi)}, got {value!r}")
    return value


def number_field(value: Any, where: str, lo: float | None, hi: float | None) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value != value  # NaN
        or (lo is not None and value < lo)
        or (hi is not None and value > hi)
    ):
        raise RuleError(where, f"expected a number{_range(lo, hi)}, got {value!r}")
    return float(value)


def read_setting(setting: Setting, action: dict[str, Any], where: str, kind: str) -> Any:
    """One declared setting of a rule's action: its value, or a RuleError naming the field."""
    field = f"{where}.{setting.name}"
    value = action.get(setting.name)
    if setting.name not in action or (value is None and setting.default is None):
        if setting.default is REQUIRED:
            raise RuleError(field, f"is required for {kind}")
        return setting.default
    if setting.choices is not None:
        if value not in setting.choices:
            choices = ", ".join(setting.choices)
            raise RuleError(field, f"expected one of {choices}, got {value!r}")
        return value
    if setting.type == "int":
        return int_field(value, field, setting.minimum, setting.maximum)
    if setting.type == "float":
        return number_field(value, field, setting.minimum, setting.maximum)
    if setting.type != "str":
        raise TypeError(f"{kind}.{setting.name}: an action's setting is int, float or str")
    if not isinstance(value, str) or not value:
        raise RuleError(field, f"expected a non-empty string, got {value!r}")
    return value


@dataclass
class Exchange:
    """One request a rule fired on, as its action sees it."""

    scope: dict[str, Any]
    receive: Any
    send: Any
    headers: Headers
    rule_id: str
    settings: dict[str, Any]
    #: park the request until the harness releases it; False when the hold was aborted
    park: Callable[[], Awaitable[bool]]

    async def drop(self) -> None:
        await wire.drop(self.scope, self.receive)


class Action:
    """The default action replaces the answer before commit and loses it after."""

    kind: ClassVar[str]
    #: one line for the fault catalog: what the client sees
    summary: ClassVar[str] = ""
    #: the fields of ``action`` besides ``kind``, in the order the catalog lists them
    settings: ClassVar[tuple[Setting, ...]] = ()
    #: before commit the request still runs, after ``before`` (delay, hold)
    runs_request: ClassVar[bool] = False
    #: before commit, the answer the request would have had is needed (malformed)
    needs_answer: ClassVar[bool] = False

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(s.name for s in self.settings)

    def parse(self, action: dict[str, Any], where: str) -> dict[str, Any]:
        """The action's settings from its JSON, as declared (``where`` names the rule)."""
        return {s.name: read_setting(s, action, f"{where}.action", self.kind)
                for s in self.settings}  # fmt: skip

    def tag(self, settings: dict[str, Any]) -> dict[str, Any]:
        """What the journal records about the action besides its kind."""
        return {}

    async def before(self, x: Exchange) -> bool:
        """For ``runs_request`` actions: True to go on and perform the request."""
        return True

    def status_instead(self, settings: dict[str, Any], would: Answer | None) -> int | None:
        """The status the client sees when the action answers instead (for the journal)."""
        return would.status if would is not None else None

    async def instead(self, x: Exchange, would: Answer | None) -> None:
        """Before commit: no effect; the answer is the fault."""
        raise NotImplementedError

    async def after(self, x: Exchange, answer: Answer) -> None:
        """After commit: the effect is in the ledger; now the answer goes wrong."""
        raise NotImplementedError


async def sleep_ms(settings: dict[str, Any]) -> None:
    await asyncio.sleep(settings["ms"] / 1000)


_A = TypeVar("_A", bound=type[Action])
REGISTRY: dict[str, Action] = {}


def register(cls: _A) -> _A:
    """Class decorator: the action ``cls.kind``, which must be its module's name (so the
    contract can list the built-in ones from the file names)."""
    module = cls.__module__.rsplit(".", 1)[-1]
    if cls.kind != module:
        raise TypeError(f"action {cls.kind!r} must live in a module named {cls.kind}.py")
    REGISTRY[cls.kind] = cls()
    contract.add_http_fault_action(cls.kind)
    return cls


def unregister(kind: str) -> None:
    """Remove an action registered outside ``fakes/actions/`` (tests clean up after themselves)."""
    contract.remove_http_fault_action(kind)
    REGISTRY.pop(kind, None)
