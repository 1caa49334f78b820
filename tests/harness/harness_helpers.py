"""Helpers for the harness runtime's tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

import sys
from pathlib import Path

from fracas.harness.adapters.select import AdapterSpec
from fracas.harness.search.planted import NAIVE, NAIVE_CLOCK

__all__ = ["NAIVE", "ROOT", "naive_spec"]

ROOT = Path(__file__).resolve().parents[2]


def naive_spec(*bugs: str) -> AdapterSpec:
    argv = [sys.executable, str(NAIVE)]
    for bug in bugs:
        argv += ["--bug", bug]
    return AdapterSpec(command=tuple(argv), source="test", clock=NAIVE_CLOCK,
                       capabilities=frozenset({"crash", "restart", "pause", "review"}))
