"""Rule registration and discovery: adding a rule means adding one file under ``rules/``.

The ``fracas.harness.checkers.rules`` package imports every module in it (the engine loads
it); a module registers its rules with ``@rule(...)`` at import time, so nothing else needs
editing (like toxiproxy's toxics/ directory). This module never imports the rules: they
import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fracas.harness.checkers.view import View
from fracas.harness.checkers.violation import Violation

CheckFn = Callable[[View], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: CheckFn


_RULES: dict[str, Rule] = {}


def rule(name: str, description: str = "") -> Callable[[CheckFn], CheckFn]:
    """Register ``fn(view) -> Iterable[Violation]`` under ``name``. The docstring is the
    description unless one is given."""

    def deco(fn: CheckFn) -> CheckFn:
        if name in _RULES and _RULES[name].check is not fn:
            raise ValueError(f"checker rule {name!r} registered twice")
        desc = description or (fn.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        _RULES[name] = Rule(name, " ".join(desc.split()), fn)
        return fn

    return deco


def all_rules() -> dict[str, Rule]:
    return dict(_RULES)


def unregister(name: str) -> None:
    """For tests that register a throwaway rule."""
    _RULES.pop(name, None)
