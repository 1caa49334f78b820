"""Fault rules: their format, validation and matching, and the requests a ``hold`` parks.

A rule fires on the requests it matches (method, path pattern, order id), counted per
rule, so ``nth`` and ``order_id`` pick the same step of the same order on every run,
however requests interleave. ``probability`` draws from the rule's own seeded RNG, only
for requests that pass every other test, so a run replays exactly.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from fracas.fakes.actions import REGISTRY as ACTIONS
from fracas.fakes.actions.base import RuleError, int_field, number_field
from fracas.fakes.actions.malformed import SHAPES
from fracas.fakes.contract import FAULT_PHASES, HTTP_FAULT_ACTIONS, path_regex

PHASES = FAULT_PHASES
#: the built-in actions, in the contract's order (which lists them from fakes/actions/);
#: a rule may name any action in the registry, which also holds those registered since
KINDS = HTTP_FAULT_ACTIONS
_RULE_KEYS = {"id", "match", "phase", "action", "times", "seed"}
_MATCH_KEYS = {"method", "path", "order_id", "nth", "probability"}

__all__ = ["ACTIONS", "KINDS", "PHASES", "SHAPES", "RuleError", "path_regex"]


@dataclass
class Rule:
    id: str
    phase: str
    kind: str
    raw: dict[str, Any]
    method: str | None = None
    path: re.Pattern[str] | None = None
    order_id: str | None = None
    nth: frozenset[int] | None = None
    probability: float | None = None
    times: int | None = None
    #: the action's own fields, as its ``parse`` read them
    settings: dict[str, Any] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    matched: int = 0
    fired: int = 0

    @property
    def retired(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, path: str, order_id: str | None) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path is not None and not self.path.match(path):
            return False
        return self.order_id is None or self.order_id == order_id

    def view(self) -> dict[str, Any]:
        return {**self.raw, "matched": self.matched, "fired": self.fired, "retired": self.retired}

    def tag(self) -> dict[str, Any]:
        """What the journal records about this rule firing."""
        tag: dict[str, Any] = {"rule_id": self.id, "phase": self.phase, "kind": self.kind}
        tag.update(ACTIONS[self.kind].tag(self.settings))
        return tag


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise RuleError(where, f"expected a non-empty string, got {value!r}")
    return value


def _keys(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise RuleError(
            f"{where}.{unknown[0]}", f"unknown field; expected one of {sorted(allowed)}"
        )


def parse_rule(data: Any, where: str, default_id: str, world_seed: int) -> Rule:
    if not isinstance(data, dict):
        raise RuleError(where, "expected an object")
    _keys(data, _RULE_KEYS, where)
    rule_id = _str(data.get("id", default_id), f"{where}.id")
    phase = data.get("phase", "before_commit")
    if phase not in PHASES:
        raise RuleError(f"{where}.phase", f"expected one of {', '.join(PHASES)}, got {phase!r}")
    action = data.get("action")
    if not isinstance(action, dict):
        raise RuleError(f"{where}.action", "expected an object with a kind")
    kind = action.get("kind")
    if kind not in ACTIONS:
        known = ", ".join(sorted(ACTIONS))
        raise RuleError(f"{where}.action.kind", f"expected one of {known}, got {kind!r}")
    _keys(action, {"kind", *ACTIONS[kind].keys}, f"{where}.action")
    seed = int_field(data.get("seed", world_seed), f"{where}.seed", -(2**63), 2**63 - 1)
    rule = Rule(
        id=rule_id, phase=phase, kind=kind, raw=data, rng=random.Random(f"{seed}:{rule_id}")
    )
    rule.settings = ACTIONS[kind].parse(action, where)
    match = data.get("match", {})
    if not isinstance(match, dict):
        raise RuleError(f"{where}.match", "expected an object")
    _keys(match, _MATCH_KEYS, f"{where}.match")
    if match.get("method") is not None:
        method = _str(match["method"], f"{where}.match.method").upper()
        rule.method = None if method == "*" else method
    if match.get("path") is not None:
        rule.path = path_regex(_str(match["path"], f"{where}.match.path"))
    if match.get("order_id") is not None:
        rule.order_id = _str(match["order_id"], f"{where}.match.order_id")
    if match.get("nth") is not None:
        nth = match["nth"]
        if isinstance(nth, int) and not isinstance(nth, bool):
            nth = [nth]
        if not isinstance(nth, list) or not nth:
            raise RuleError(f"{where}.match.nth", "expected a non-empty list of integers >= 1")
        rule.nth = frozenset(
            int_field(n, f"{where}.match.nth[{i}]", 1, 2**31) for i, n in enumerate(nth)
        )
    if match.get("probability") is not None:
        rule.probability = number_field(match["probability"], f"{where}.match.probability", 0, 1)
    if data.get("times") is not None:
        rule.times = int_field(data["times"], f"{where}.times", 0, 2**31)
    return rule


def parse_rules(data: Any, world_seed: int, existing: list[Rule] | None = None) -> list[Rule]:
    """A list of rules (or ``{"rules": [...]}``), validated as a whole: ids are unique."""
    if isinstance(data, dict) and "rules" in data:
        _keys(data, {"rules"}, "body")
        data = data["rules"]
        where = "rules"
    else:
        where = "body"
    if not isinstance(data, list):
        raise RuleError(where, "expected a list of rules")
    taken = {r.id for r in existing or []}
    rules = []
    for i, item in enumerate(data):
        rule = parse_rule(item, f"{where}[{i}]", f"rule-{len(taken) + 1}", world_seed)
        if rule.id in taken:
            raise RuleError(f"{where}[{i}].id", f"expected a unique id, {rule.id!r} is taken")
        taken.add(rule.id)
        rules.append(rule)
    return rules


class Faults:
    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def pick(self, method: str, path: str, order_id: str | None) -> Rule | None:
        """Count the request against every rule it matches; return the first that fires."""
        chosen: Rule | None = None
        for rule in self.rules:
            if not rule.matches(method, path, order_id):
                continue
            rule.matched += 1
            if chosen is not None or rule.retired:
                continue
            if rule.nth is not None and rule.matched not in rule.nth:
                continue
            if rule.probability is not None and rule.rng.random() >= rule.probability:
                continue
            rule.fired += 1
            chosen = rule
        return chosen

    def view(self) -> dict[str, Any]:
        return {"rules": [r.view() for r in self.rules]}


@dataclass
class HeldRequest:
    id: str
    rule_id: str
    phase: str
    method: str
    path: str
    order_id: str | None
    idempotency_key: str | None
    since: float
    event: asyncio.Event = field(default_factory=asyncio.Event)
    aborted: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "phase": self.phase,
            "method": self.method,
            "path": self.path,
            "order_id": self.order_id,
            "idempotency_key": self.idempotency_key,
            "since": self.since,
        }


class HeldRequests:
    """Requests parked by ``hold`` rules until the harness releases them."""

    def __init__(self) -> None:
        self._held: dict[str, HeldRequest] = {}
        self._waiters: list[asyncio.Event] = []
        self._count = 0

    async def park(
        self,
        rule: Rule,
        method: str,
        path: str,
        order_id: str | None,
        idempotency_key: str | None,
    ) -> bool:
        """Wait until released; False when the hold was aborted (by a reset)."""
        self._count += 1
        item = HeldRequest(
            f"held-{self._count}", rule.id, rule.phase, method, path, order_id,
            idempotency_key, time.time(),
        )  # fmt: skip
        self._held[item.id] = item
        for waiter in self._waiters:
            waiter.set()
        try:
            await item.event.wait()
        finally:
            self._held.pop(item.id, None)
        return not item.aborted

    def release(self, held_id: str) -> bool:
        item = self._held.pop(held_id, None)
        if item is None:
            return False
        item.event.set()
        return True

    def release_all(self) -> list[str]:
        ids = list(self._held)
        for held_id in ids:
            self.release(held_id)
        return ids

    def abort_all(self) -> None:
        for item in list(self._held.values()):
            item.aborted = True
            self.release(item.id)

    def view(self) -> list[dict[str, Any]]:
        return [item.view() for item in self._held.values()]

    async def wait(self, timeout: float) -> list[dict[str, Any]]:
        """Long-poll: the held requests, waiting up to `timeout` for at least one."""
        if not self._held and timeout > 0:
            waiter = asyncio.Event()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter.wait(), timeout)
            except TimeoutError:
                pass
            finally:
                self._waiters.remove(waiter)
        return self.view()
