"""The event table of docs/contract.md §7 is fakes/events.py's, row for row: the facts
are stated once in code and the doc cannot drift from them."""

from __future__ import annotations

import re

from choreo_helpers import ROOT

from fracas.fakes import events


def test_the_contracts_event_table_is_the_codes() -> None:
    # §7 alone: §8 (the hybrid) lists the end events again, as the orchestrator's
    section = (ROOT / "docs" / "contract.md").read_text().split("## 7.", 1)[1].split("\n## 8.")[0]
    rows = re.findall(r"^\| `([a-z._]+)` \|([^|]+)\|([^|]*)\|([^|]*)\|", section, flags=re.M)
    got = [(name, by.strip(), tuple(re.findall(r"`([a-z_]+)`", adds)),
            tuple(re.findall(r"`([a-z._]+)`", answers)), " and " in answers)
           for name, by, adds, answers in rows]  # fmt: skip
    want = [(e.name, "the harness" if e.by == "harness" else e.by, e.adds, e.answers, e.join)
            for e in events.EVENTS]  # fmt: skip
    assert got == want


def test_subjects_and_message_ids_round_trip() -> None:
    for e in events.EVENTS:
        assert events.event_of(events.subject(e.name)) == e.name
    assert events.event_of("fracas.saga.order.paid") is None
    assert events.msg_id("ord-0001", events.PLACED) == "ord-0001:order.placed"


def test_every_path_event_follows_what_it_answers() -> None:
    """Each event on an intent's path comes after an event it answers (all of them, for
    a join), so ``cause`` names the one that sets it off; only a review timeout's
    rejection answers a clock, not an event."""
    for intent, path in events.PATHS.items():
        assert path[0] == events.PLACED and path[-1] in events.END_STATUS, intent
        for i, name in enumerate(path[1:], 1):
            spec = events.BY_NAME[name]
            if spec.join:
                assert set(spec.answers) <= set(path[:i]), (intent, name)
            found = events.cause(path, name)
            assert found is not None or intent == "review_timeout", (intent, name)
    assert events.cause(events.PATHS["out_of_stock"], "inventory.rejected") == "customer.checked"
    assert events.cause(events.PATHS["ok"], "shipping.shipped") == "inventory.reserved"
