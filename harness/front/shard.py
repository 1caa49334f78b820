"""Which slice of the suite this machine runs: ``--shard K/N``.

N machines (a CI matrix, a Kubernetes Indexed Job) each run one shard with no
coordination, so the split must come from nothing but the collected tests: the same
collection always gives every machine the same, disjoint slice. Tests are dealt round
robin in collection order, which spreads a parametrized test's cases (the Hypothesis
slices of a property scenario sit next to each other) evenly over the shards instead of
giving one machine all of them.

Where K/N comes from, first found wins: ``--shard``, ``FRACAS_SHARD`` ("K/N"), or a
Kubernetes Indexed Job's ``JOB_COMPLETION_INDEX`` (0-based) with ``FRACAS_SHARD_COUNT``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class ShardError(ValueError):
    """A shard spec that cannot be used; the message names where it came from."""


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def select(self, items: Sequence[T]) -> tuple[list[T], list[T]]:
        """(kept, dropped): every ``count``-th item, starting at position ``index - 1``."""
        kept = [x for i, x in enumerate(items) if i % self.count == self.index - 1]
        dropped = [x for i, x in enumerate(items) if i % self.count != self.index - 1]
        return kept, dropped


WHOLE = Shard(1, 1)


def parse_shard(text: str, where: str = "--shard") -> Shard:
    """``"K/N"`` with 1 <= K <= N; anything else is a ShardError naming ``where``."""
    parts = text.strip().split("/")
    try:
        k, n = (int(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        k = n = None
    if k is None or n is None:
        raise ShardError(f"{where}: expected K/N (e.g. 2/4), got {text!r}")
    if n < 1 or not 1 <= k <= n:
        raise ShardError(f"{where}: expected 1 <= K <= N in K/N, got {text!r}")
    return Shard(k, n)


def shard_from(option: str | None, env: Mapping[str, str] | None = None) -> Shard:
    """The shard the option, then the environment, choose; the whole suite by default."""
    env = os.environ if env is None else env
    if option:
        return parse_shard(option)
    if env.get("FRACAS_SHARD", "").strip():
        return parse_shard(env["FRACAS_SHARD"], "FRACAS_SHARD")
    index = env.get("JOB_COMPLETION_INDEX", "").strip()
    if not index:
        return WHOLE
    count = env.get("FRACAS_SHARD_COUNT", "").strip()
    if not count:
        raise ShardError(
            "JOB_COMPLETION_INDEX is set but FRACAS_SHARD_COUNT is not: set it to the Job's "
            "completions (a Kubernetes Indexed Job does not say how many indexes there are)"
        )
    try:
        k = int(index) + 1
    except ValueError:
        raise ShardError(f"JOB_COMPLETION_INDEX: expected a whole number, got {index!r}") from None
    return parse_shard(f"{k}/{count}", "JOB_COMPLETION_INDEX/FRACAS_SHARD_COUNT")
