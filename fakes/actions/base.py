"""What an HTTP fault action is: how its JSON is read, what the journal records about it,
and what it does to a request before and after the commit.

One action per module of ``fracas.fakes.actions`` (like a toxic); the module's name is the
action's ``kind``, so ``fracas.fakes.contract`` can list the kinds without importing them and a
new action is one new file (docs/extending.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from fracas.fakes import wire
from fracas.fakes.service import Answer

Headers = list[tuple[bytes, bytes]]


class RuleError(ValueError):
    """A rule that cannot be used; `field` names where, the message says what was expected."""

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(f"{field}: {expected}")
        self.field = field
        self.expected = expected


def int_field(value: Any, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise RuleError(where, f"expected an integer from {lo} to {hi}, got {value!r}")
    return value


def number_field(value: Any, where: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise RuleError(where, f"expected a number from {lo} to {hi}, got {value!r}")
    return float(value)


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
    #: fields of ``action`` besides ``kind``
    keys: ClassVar[frozenset[str]] = frozenset()
    #: before commit the request still runs, after ``before`` (delay, hold)
    runs_request: ClassVar[bool] = False
    #: before commit, the answer the request would have had is needed (malformed)
    needs_answer: ClassVar[bool] = False

    def parse(self, action: dict[str, Any], where: str) -> dict[str, Any]:
        """The action's settings from its JSON (``where`` names the field in errors)."""
        return {}

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
    """Class decorator: the action ``cls.kind``, which must be its module's name."""
    module = cls.__module__.rsplit(".", 1)[-1]
    if cls.kind != module:
        raise TypeError(f"action {cls.kind!r} must live in fakes/actions/{cls.kind}.py")
    REGISTRY[cls.kind] = cls()
    return cls
