"""Toxic types, one module each, found by importing every module of this package."""

from __future__ import annotations

import importlib
import pkgutil

from fracas.harness.toxiproxy.toxics.base import (
    REGISTRY,
    Chunk,
    Item,
    LinkHooks,
    Stub,
    Toxic,
    pass_through,
    register,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Chunk", "Item", "LinkHooks", "Stub", "Toxic", "pass_through", "register"]
