"""A run's name as a file name, stated once: the scenario handle names runs with it, and
the report writer and the replay files name their files with it, so the terminal table,
``fracas-report/<run>.html`` and ``replays/<run>.json`` agree. It lives in the kit because
the run layer may not import the reports."""

from __future__ import annotations

import re
from collections.abc import Container


def stem_of(name: str) -> str:
    """``name`` with every run of characters a file name should not hold made one ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "run"


def first_free(base: str, taken: Container[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not ``taken`` first."""
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}-{k}"
    return name
