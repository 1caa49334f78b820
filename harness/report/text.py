"""The pytest failure text: the first thing a reader sees is how the first violation happened."""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import Any

from fracas.harness.checkers.engine import CheckResult
from fracas.harness.checkers.violation import Violation
from fracas.harness.report.common import (
    fault_line,
    group_by_order,
    ledger_line,
    rule_rank,
    witness_lines,
)

MAX_DETAILED = 5
MAX_LINES = 25
MAX_MESSAGE_LINES = 35


class ConsistencyError(AssertionError):
    """Raised by ``raise_if_violated``; its message is ``failure_text``."""

    def __init__(self, result: CheckResult, text: str) -> None:
        super().__init__(text)
        self.result = result


def _wrap(s: str, indent: str = "    ") -> str:
    return textwrap.fill(s, width=100, initial_indent=indent, subsequent_indent=indent)


def violation_text(v: Violation, t0: float, *, lead: bool = False) -> str:
    """``lead``: its account was already printed at the top, so it is not repeated."""
    where = f"order {v.order_id}" if v.order_id else "the run"
    out = (
        [f"[{v.rule}] {where} (witness above)"]
        if lead
        else [f"[{v.rule}] {where}", _wrap(v.account or v.message)]
    )
    if v.expected or v.actual:
        keys = list(dict.fromkeys([*v.expected, *v.actual]))
        out.append("  ledger diff (expected -> actual):")
        out += [f"    {k}: {v.expected.get(k, '-')} -> {v.actual.get(k, '-')}" for k in keys]
    if v.faults:
        out.append("  faults active:")
        out += [f"    {fault_line(f, t0)}" for f in v.faults]
    if v.ledger_rows:
        out.append("  ledger rows:")
        out += [f"    {ledger_line(r)}" for r in v.ledger_rows[:MAX_LINES]]
        if len(v.ledger_rows) > MAX_LINES:
            out.append(f"    ... {len(v.ledger_rows) - MAX_LINES} more")
    lines = witness_lines(v.journal_lines, v.messages, t0)
    if lines:
        cap = _cap(v.messages)
        out.append(_journal_title(v.messages))
        out += [f"    {line}" for line in lines[:cap]]
        if len(lines) > cap:
            out.append(f"    ... {len(lines) - cap} more")
    return "\n".join(out)


def _cap(messages: list[Any]) -> int:
    """A choreography's order moves a few broker messages per event: its witness keeps
    room for them beside the HTTP calls."""
    return MAX_LINES + (MAX_MESSAGE_LINES if messages else 0)


def _journal_title(messages: list[Any]) -> str:
    return "  journal and broker:" if messages else "  journal:"


def order_text(vs: list[Violation], t0: float, *, lead: bool = False) -> str:
    """One order's witness, told once with every rule it broke named in its heading:
    the other rules' findings, then the faults, ledger rows and journal they share."""
    if len(vs) == 1:
        return violation_text(vs[0], t0, lead=lead)
    first = vs[0]
    rules = ", ".join(dict.fromkeys(v.rule for v in vs))
    out = [f"[{rules}] order {first.order_id}" + (" (witness above)" if lead else "")]
    if not lead:
        out.append(_wrap(first.account or first.message))
    out += [_wrap(f"also [{v.rule}]: {v.message}") for v in vs[1:]]
    for v in vs:
        if v.expected or v.actual:
            keys = list(dict.fromkeys([*v.expected, *v.actual]))
            out.append(f"  ledger diff for {v.rule} (expected -> actual):")
            out += [f"    {k}: {v.expected.get(k, '-')} -> {v.actual.get(k, '-')}" for k in keys]
    messages = [m for v in vs for m in v.messages]
    journal = [e for v in vs for e in v.journal_lines]
    shared = [("faults active", [fault_line(f, t0) for v in vs for f in v.faults], MAX_LINES),
              ("ledger rows", [ledger_line(r) for v in vs for r in v.ledger_rows], MAX_LINES),
              (_journal_title(messages).strip(" :"), witness_lines(journal, messages, t0),
               _cap(messages))]  # fmt: skip
    for title, lines, cap in shared:
        once = list(dict.fromkeys(lines))
        if once:
            out.append(f"  {title}:")
            out += [f"    {line}" for line in once[:cap]]
            if len(once) > cap:
                out.append(f"    ... {len(once) - cap} more")
    return "\n".join(out)


def failure_text(
    result: CheckResult | Any, t0: float | None = None, *, max_detailed: int = MAX_DETAILED
) -> str:
    """Times are shown relative to ``t0`` (the history's run start). ``result`` is a
    CheckResult or anything with ``.verdict`` (and ``.history``), like the runner's RunResult."""
    hist = None
    if not isinstance(result, CheckResult):
        hist = getattr(result, "history", None)
        if t0 is None and hist is not None:
            t0 = float(hist.t0)
        result = result.verdict
    assert isinstance(result, CheckResult)
    t0 = 0.0 if t0 is None else t0
    if result.ok:
        return f"fracas: consistent ({result.orders} orders, {len(result.rules)} rules)"
    ordered = sorted(result.violations, key=lambda v: rule_rank(v.rule))
    counts = Counter(v.rule for v in ordered)
    head = [
        f"fracas: {len(ordered)} violation(s) over {result.orders} orders: "
        + ", ".join(
            f"{r} x{n}" for r, n in sorted(counts.items(), key=lambda kv: rule_rank(kv[0]))
        ),
        "",
    ]
    races = hist.races() if hist is not None else []
    if races:
        head += [_wrap(race_text(races), indent=""), ""]
    if ordered:
        head.append(_wrap(ordered[0].account or ordered[0].message, indent=""))
        head.append("")
    stories = group_by_order(ordered[:max_detailed])
    body = [order_text(vs, t0, lead=i == 0) for i, vs in enumerate(stories)]
    if len(ordered) > max_detailed:
        body.append(
            f"... and {len(ordered) - max_detailed} more violation(s); see the JSON/HTML report"
        )
        body.append(
            "  "
            + "\n  ".join(
                f"[{v.rule}] {v.order_id}: {v.message}"
                for v in ordered[max_detailed : max_detailed + 20]
            )
        )
    for name, tb in result.errors.items():
        body.append(f"[rule error] {name}:\n{textwrap.indent(tb.rstrip(), '    ')}")
    return "\n".join(head) + "\n\n".join(body)


def race_text(races: list[str]) -> str:
    """What a race in a failing run means to its reader: the verdict is real, and a
    replay may still take the other branch (it is not the tool failing to recreate it)."""
    return (
        f"RACE: this run's faults include a race by nature: {'; '.join(races)}. Either "
        "branch may win on any run, so a replay may end the other way; the witness below "
        "tells the branch this run took."
    )


def raise_if_violated(result: CheckResult, t0: float | None = None) -> None:
    if not result.ok:
        raise ConsistencyError(result, failure_text(result, t0))
