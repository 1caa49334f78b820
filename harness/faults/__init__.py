"""The fault catalog: every kind of failure fracas can inject, as data.

A fault is JSON (``{"kind", "target", "params", "id"?}``) that round-trips exactly, is
checked with messages that say what to do next, and has ``apply(ctx)``/``heal(ctx)``
against a ``FaultContext``. Kinds live one per module in ``fracas.harness.faults.kinds``; all of
them are imported here, so adding a kind is adding a file. Every HTTP fault action of the
fakes is a kind too, built from the action's own file unless a kind file names it
(``action_kinds``). See docs/faults.md.
"""

from __future__ import annotations

import importlib
import pkgutil

from fracas.harness.faults import action_kinds as _action_kinds  # noqa: F401 - adds its kinds
from fracas.harness.faults import kinds as _kinds
from fracas.harness.faults.base import (
    FAMILIES,
    Fault,
    FaultValidationError,
    Param,
    fault_class,
    fault_kinds,
    register,
)
from fracas.harness.faults.context import FaultContext, FaultError, SimpleFaultContext
from fracas.harness.faults.healing import heal_all


def _load_kinds() -> None:
    for info in pkgutil.iter_modules(_kinds.__path__, _kinds.__name__ + "."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(info.name)


_load_kinds()


def from_json(data: object) -> Fault:
    """A fault from its JSON form; see ``Fault.from_json``."""
    return Fault.from_json(data)


__all__ = [
    "FAMILIES",
    "Fault",
    "FaultContext",
    "FaultError",
    "FaultValidationError",
    "Param",
    "SimpleFaultContext",
    "fault_class",
    "fault_kinds",
    "from_json",
    "heal_all",
    "register",
]
