"""A scenario's own assertion on statuses, explained with the order and its witness.

``RunResult.statuses`` maps order ids to :class:`OrderStatus` values: plain strings that
also remember which order they belong to. When ``assert result.statuses[oid] ==
"completed"`` or ``assert set(result.statuses.values()) == {"completed"}`` fails, the
plugin's ``pytest_assertrepr_compare`` finds them in the compared values and prints, for
each unexpected status, the orders that reported it and how they got there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

MAX_ORDERS = 3


class OrderStatus(str):
    """A status string (compares, hashes and prints as the plain string) that knows its
    order and can tell that order's story."""

    order_id: str
    _book: _Statuses

    def __new__(cls, value: str, order_id: str, book: _Statuses) -> OrderStatus:
        obj = super().__new__(cls, value)
        obj.order_id = order_id
        obj._book = book
        return obj

    def explain(self) -> list[str]:
        return self._book.explain(str(self))


class _Statuses:
    """The orders of one run by status, and a lazily built witness per order."""

    def __init__(self, reported: Mapping[str, str | None], story: Callable[[str], str]) -> None:
        self.reported = dict(reported)
        self._story = story

    def explain(self, status: str) -> list[str]:
        oids = [o for o, s in self.reported.items() if s == status]
        out = []
        for oid in oids[:MAX_ORDERS]:
            out.append(f"order {oid} reported {status!r}: {self._story(oid)}")
        if len(oids) > MAX_ORDERS:
            out.append(f"... and {len(oids) - MAX_ORDERS} more order(s) reported {status!r}")
        return out


def statuses(result: Any) -> dict[str, OrderStatus | None]:
    """``result``: a RunResult (anything with ``snapshot``, and ``replay_path`` maybe)."""
    snap = result.snapshot
    reported = {
        oid: (rep or {}).get("status") if rep else None for oid, rep in snap.reported.items()
    }

    def story(oid: str) -> str:
        from fracas.harness.checkers.view import View
        from fracas.harness.checkers.violation import Violation
        from fracas.harness.checkers.witness import enrich

        verdict = getattr(result, "verdict", None)
        real = [v for v in (verdict.violations if verdict else []) if v.order_id == oid]
        if real:  # the order broke a rule: its witness says it best
            text = f"[{real[0].rule}] {real[0].account or real[0].message}"
        else:
            v = enrich(View(snap), Violation("scenario", oid, f"order {oid}"))
            text = v.account.split(". ", 1)[1] if ". " in v.account else v.account
        replay = getattr(result, "replay_path", None)
        if not replay:
            return text
        from fracas.harness.kit.invocation import fracas_command

        return f"{text} (replay: {fracas_command()} replay {replay})"

    book = _Statuses(reported, story)
    return {
        oid: (OrderStatus(s, oid, book) if isinstance(s, str) else None)
        for oid, s in reported.items()
    }


def _found(x: Any) -> Iterable[OrderStatus]:
    if isinstance(x, OrderStatus):
        yield x
    elif isinstance(x, Mapping):
        yield from (v for v in x.values() if isinstance(v, OrderStatus))
    elif isinstance(x, (set, frozenset, list, tuple)):
        yield from (v for v in x if isinstance(v, OrderStatus))


def _plain(x: Any) -> set[str]:
    if isinstance(x, str):
        return {x}
    if isinstance(x, Mapping):
        return {v for v in x.values() if isinstance(v, str)}
    if isinstance(x, (set, frozenset, list, tuple)):
        return {v for v in x if isinstance(v, str)}
    return set()


def explain_compare(op: str, left: Any, right: Any) -> list[str] | None:
    """Lines for pytest, or None to keep pytest's own explanation."""
    if op not in ("==", "!=", "in", "not in"):
        return None
    ours = list(_found(left)) or list(_found(right))
    if not ours:
        return None
    other = right if list(_found(left)) else left
    expected = _plain(other)
    lines = [f"{left!r} {op} {right!r}"]
    seen: set[str] = set()
    for s in ours:
        status = str(s)
        if status in seen or (op in ("==", "in") and status in expected):
            continue
        seen.add(status)
        lines += s.explain()
    if len(lines) == 1:
        return None
    return lines
