"""The message faults the search would draw: every draw is a valid schedule entry aimed
at an event its target sees, and none are drawn with a real Toxiproxy."""

from __future__ import annotations

from typing import Any

from choreo_helpers import example_table
from hypothesis import given, settings
from hypothesis import strategies as st

from fracas.harness.faults.message import refusal
from fracas.harness.run.schedule import parse_schedule
from fracas.harness.search.messages import consumed, message_faults

PARTICIPANTS = {p["name"]: p["consumes"] for p in example_table()["participants"]}
ORDERS = ["ord-0001", "ord-0002"]


@settings(max_examples=200, deadline=None)
@given(message_faults(PARTICIPANTS, ORDERS))
def test_every_drawn_message_fault_is_a_valid_entry_aimed_at_what_its_target_sees(
    entries: list[dict[str, Any]],
) -> None:
    schedule = parse_schedule(entries)
    assert refusal([f.fault for f in schedule.faults], reads_nats=True, backend="embedded") is None
    for entry in entries:
        fault = entry["fault"]
        params = fault["params"]
        assert params["order_id"] in ORDERS
        who = params.get("consumer") or fault["target"].removeprefix("participant:")
        if fault["kind"] != "message_lost_puback":
            assert params["event"] in consumed(PARTICIPANTS[who])
        else:
            assert params["event"] != "order.placed"


@given(st.data())
def test_nothing_is_drawn_with_a_real_toxiproxy(data: st.DataObject) -> None:
    assert data.draw(message_faults(PARTICIPANTS, ORDERS, reads_nats=False)) == []
