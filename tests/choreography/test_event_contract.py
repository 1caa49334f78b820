"""The event table of docs/contract.md §7 is fakes/events.py's, row for row: the facts
are stated once in code and the doc cannot drift from them."""

from __future__ import annotations

import re

from choreo_helpers import ROOT

from fracas.fakes import events


def test_the_contracts_event_table_is_the_codes() -> None:
    # §7 alone: §8 (the hybrid) lists the end events again, as the orchestrator's
    section = (ROOT / "docs" / "contract.md").read_text().split("## 7.", 1)[1].split("\n## 8.")[0]
    rows = re.findall(r"^\| `([a-z._]+)` \|([^|]+)\|([^|]*)\|", section, flags=re.M)
    got = [(name, by.strip(), tuple(re.findall(r"`([a-z_]+)`", adds))) for name, by, adds in rows]
    want = [(e.name, "the harness" if e.by == "harness" else e.by, e.adds) for e in events.EVENTS]
    assert got == want


def test_subjects_and_message_ids_round_trip() -> None:
    for e in events.EVENTS:
        assert events.event_of(events.subject(e.name)) == e.name
    assert events.event_of("fracas.saga.order.paid") is None
    assert events.msg_id("ord-0001", events.PLACED) == "ord-0001:order.placed"
