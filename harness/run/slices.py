"""Hypothesis slices: one property scenario cut into independent pytest tests, so xdist
workers and shards can share its examples without repeating each other.

A ``@given`` test is one pytest item, so ``-n 4`` would run all its examples on one
worker. Instead, a scenario that takes the ``fracas_slice`` fixture is parametrized into
``S`` slices. Each slice runs ``ceil(max_examples / S)`` examples from its own Hypothesis
seed, derived from the fracas seed and the slice's index, so:

- slices never share a random stream (they do not draw each other's examples);
- the split depends only on S, never on ``-n`` or the shard count, so one unsharded run
  and the union of ``--shard 1/N`` .. ``N/N`` run the very same examples;
- under a derandomized profile (``ci``), the same seed and slice give the same examples
  on any machine. Under ``dev`` and ``soak`` (randomized on purpose), each slice draws
  from Hypothesis's own random source instead; with ``--hypothesis-seed X``, slice 0 uses X
and slice i a seed derived from X and i (the same X alone would give every slice the same
stream).

Hypothesis always tries the simplest example first, whatever its seed, so S slices would
run it S times. Under a derandomized profile, every slice but the first rejects its first
example (that simplest one) for a ``@given`` test: its first ``fracas.run`` rejects, after
the example's draws (rejecting before them would tell Hypothesis that every input is
invalid). Under ``dev`` and ``soak`` the first
calls replay the example database, so nothing is rejected there: at most S - 1 copies of
the simplest example in hundreds. A state machine (run_state_machine_as_test) has no
hook for this, so its slices each run the simplest machine once.

Under ``dev`` and ``soak`` each slice keeps its examples in the example database under
a key of its own (``SliceDatabase``): under one shared key, every slice replayed what the
others had saved. A slice then replays only its own earlier failures.

S is ``--fracas-slices`` / ``FRACAS_SLICES``, else the profile's default (``DEFAULTS``).
Choose S at least the number of workers times machines, or some sit idle.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import HealthCheck, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.database import ExampleDatabase

F = TypeVar("F", bound=Callable[..., Any])

#: Slices per profile: enough for ``-n 4`` on one machine, or four shards.
DEFAULTS = {"ci": 2, "dev": 4, "soak": 8}


def derive_seed(seed: int, index: int) -> int:
    """A Hypothesis seed for slice ``index`` of the suite seeded ``seed``: stable across
    Python versions and processes (no ``hash()``), and unrelated between slices."""
    digest = hashlib.sha256(f"fracas-slice:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def share(total: int, index: int, count: int) -> int:
    """Slice ``index``'s share of ``total`` examples: the shares add up to ``total``."""
    base, extra = divmod(total, count)
    return base + (1 if index < extra else 0)


@dataclass(frozen=True)
class Slice:
    """What a sliced scenario needs: apply it to the ``@given`` function or the state
    machine class (``fracas_slice.apply(search)``)."""

    index: int
    count: int
    seed: int
    examples: int
    derandomized: bool

    def __repr__(self) -> str:
        return f"<slice {self.index + 1}/{self.count} examples={self.examples}>"

    def settings(self) -> settings:
        """The profile's settings, with this slice's share of the examples and its own
        keys in the example database. A search that follows a plan rejects the draws
        that are not the plan's next cell, so filtering is what it does, not a smell."""
        current = settings().database
        database = current if current is None or self.derandomized else self.database(current)
        return settings(
            max_examples=max(1, self.examples),
            database=database,
            suppress_health_check=[*settings().suppress_health_check, HealthCheck.filter_too_much],
        )

    def database(self, inner: ExampleDatabase) -> SliceDatabase:
        """This slice's view of ``inner`` (one per slice and run, so ``replays`` counts
        this run's)."""
        key = f"fracas-slice:{self.index}/{self.count}:{self.seed}:".encode()
        found = _DATABASES.get(key)
        if found is None or found.inner is not inner:
            found = _DATABASES[key] = SliceDatabase(inner, key)
        return found

    def replays(self) -> int:
        """How many saved examples this slice's search has fetched to replay so far."""
        found = _DATABASES.get(f"fracas-slice:{self.index}/{self.count}:{self.seed}:".encode())
        return 0 if found is None else sum(found.fetched.values())

    def apply(self, target: F, own_simplest: bool = False) -> F:
        """Seed ``target`` (a ``@given`` test or a state machine class) for this slice and
        give it its share of examples. A ``@given`` test gets the settings as a decorator;
        pass ``self.settings()`` to ``run_state_machine_as_test`` for a machine.
        ``own_simplest``: the test draws each slice's own simplest example (a planned
        search does), so no slice skips it."""
        out: Any = target
        forced = _global_seed()
        if self.derandomized:
            out = hypothesis_seed(self.seed)(out)
        elif forced is not None and self.index > 0:
            # --hypothesis-seed gives every test the same stream: slices would repeat
            # each other. Slice 0 keeps that seed (as an unsliced run had), the others
            # derive theirs from it.
            out = hypothesis_seed(derive_seed(int(forced), self.index))(out)
        seeded = self.derandomized or forced is not None  # no example database: the
        if hasattr(out, "hypothesis"):  # a @given test (a machine takes settings= instead)
            out = self.settings()(out)
            if seeded and self.index > 0 and not own_simplest:  # the simplest example
                out.hypothesis.inner_test = _skip_first(out.hypothesis.inner_test)
        return out  # type: ignore[no-any-return]


#: Set while a slice's first example (Hypothesis's simplest) runs: ``fracas.run`` rejects.
_skipping = [False]


def reject_if_skipped() -> None:
    """Called by ``Fracas.run`` before it runs anything: the example's draws are made."""
    if _skipping[0]:
        _skipping[0] = False
        reject()


def _global_seed() -> Any:
    """``--hypothesis-seed``'s value, or None."""
    from hypothesis import core

    return getattr(core, "global_force_seed", None)


def _skip_first(inner: Callable[..., Any]) -> Callable[..., Any]:
    """Reject the first example, the simplest, which slice 0 already runs."""
    calls = [0]

    @functools.wraps(inner)
    def run(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        _skipping[0] = calls[0] == 1
        try:
            return inner(*args, **kwargs)
        finally:
            _skipping[0] = False

    return run


class SliceDatabase(ExampleDatabase):
    """One slice's keys in a shared example database: every key gets the slice's prefix,
    so slices never replay each other's examples. Counts what it hands back to replay."""

    def __init__(self, inner: ExampleDatabase, prefix: bytes) -> None:
        super().__init__()
        self.inner = inner
        self.prefix = prefix
        #: Entries fetched per key (a key fetched twice counts once).
        self.fetched: dict[bytes, int] = {}

    def save(self, key: bytes, value: bytes) -> None:
        self.inner.save(self.prefix + key, value)

    def fetch(self, key: bytes) -> Any:
        items = list(self.inner.fetch(self.prefix + key))
        self.fetched[key] = len(items)
        return iter(items)

    def delete(self, key: bytes, value: bytes) -> None:
        self.inner.delete(self.prefix + key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self.inner.move(self.prefix + src, self.prefix + dest, value)


_DATABASES: dict[bytes, SliceDatabase] = {}


def make_slice(index: int, count: int, seed: int) -> Slice:
    current = settings()
    return Slice(
        index=index,
        count=count,
        seed=derive_seed(seed, index),
        examples=share(int(current.max_examples), index, count),
        derandomized=bool(current.derandomize),
    )


def slice_count(option: str | None, env_value: str | None, profile: str) -> int:
    """The number of slices: the option, then the environment, then the profile's."""
    for where, text in (("--fracas-slices", option), ("FRACAS_SLICES", env_value)):
        if text is None or not str(text).strip():
            continue
        try:
            n = int(str(text))
        except ValueError:
            raise ValueError(f"{where}: expected a whole number, got {text!r}") from None
        if n < 1:
            raise ValueError(f"{where}: expected 1 or more, got {n}")
        return n
    return DEFAULTS.get(profile, 1)
