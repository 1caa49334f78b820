"""HTTP fault actions, one module each, found by importing every module of this package."""

from __future__ import annotations

import importlib
import pkgutil

from fracas.fakes.actions.base import (
    REGISTRY,
    Action,
    Exchange,
    RuleError,
    register,
    unregister,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Action", "Exchange", "RuleError", "register", "unregister"]
