"""Rule registration and discovery: adding a rule means adding one file under ``rules/``.

Every module in ``fracas.harness.checkers.rules`` is imported on first use; a module registers its
rules with ``@rule(...)`` at import time, so nothing else needs editing (like toxiproxy's
toxics/ directory).
"""

from __future__ import annotations

import importlib
import pkgutil
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
_discovered = False


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


def discover() -> None:
    """Import every module of the rules package (once)."""
    global _discovered
    if _discovered:
        return
    from fracas.harness.checkers import rules as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
    _discovered = True


def all_rules() -> dict[str, Rule]:
    discover()
    return dict(_RULES)


def unregister(name: str) -> None:
    """For tests that register a throwaway rule."""
    _RULES.pop(name, None)
