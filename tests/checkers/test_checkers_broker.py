"""A choreography's broker messages in the checkers, on hand-built histories: the rule
``event-stored-once`` and the witness's broker lines. The same records the tap writes
(harness/broker/tap.py) are attached to a synthetic run, so the rule's edges are shown
without a broker; tests/choreography shows both on the real one."""

from __future__ import annotations

from typing import Any

from checkers_helpers import named, verdict
from synth_ledger import SynthWorld

from fracas.harness.checkers import View, Violation
from fracas.harness.report.html import render_html
from fracas.harness.report.text import failure_text

JSON = dict[str, Any]


def _published(w: SynthWorld, oid: str, event: str, seq: int, *, duplicate: bool | None,
               msg_id: bool = True) -> JSON:
    m: JSON = {"t": w._tick(), "kind": "published", "event": event, "order_id": oid,
               "msg_id": f"{oid}:{event}" if msg_id else None}
    if duplicate is not None:
        m.update(stream_seq=seq, duplicate=duplicate)
    return m


def _moved(w: SynthWorld, kind: str, oid: str, event: str, seq: int, delivery: int = 1) -> JSON:
    return {"t": w._tick(), "kind": kind, "event": event, "order_id": oid,
            "consumer": "payment", "delivery": delivery, "stream_seq": seq}


def _world() -> SynthWorld:
    w = SynthWorld()
    w.complete("ord-a")
    return w


def test_an_event_stored_twice_is_named_with_both_sequences() -> None:
    w = _world()
    w.history.attach_messages([
        _published(w, "ord-a", "customer.checked", 3, duplicate=False),
        _published(w, "ord-a", "customer.checked", 4, duplicate=False, msg_id=False),
        _moved(w, "delivered", "ord-a", "customer.checked", 3),
        _moved(w, "acked", "ord-a", "customer.checked", 3),
        _moved(w, "delivered", "ord-a", "customer.checked", 4),
    ])
    result = verdict(w)
    assert named(result) == {("event-stored-once", "ord-a")}
    [v] = result.violations
    assert v.actual == {"stored": 2, "event": "customer.checked", "stream_seqs": [3, 4]}
    assert "at seq 3 (msg id ord-a:customer.checked), seq 4 (no msg id)" in v.message
    assert len(v.messages) == 5  # the witness joins every record of the order
    text = failure_text(result, w.history.t0)
    assert "  journal and broker:" in text
    assert "broker published customer.checked stored seq 4 NO MSG-ID" in text
    assert "broker delivered customer.checked to payment (delivery 1, seq 4)" in text
    assert "broker acked customer.checked by payment (delivery 1, seq 3)" in text


def test_a_copy_seen_only_in_a_delivery_still_counts_as_stored() -> None:
    """The tap missed the second PubAck, but the broker delivered from a second sequence:
    the event is in the stream twice all the same."""
    w = _world()
    w.history.attach_messages([
        _published(w, "ord-a", "payment.captured", 7, duplicate=False),
        _published(w, "ord-a", "payment.captured", 0, duplicate=None, msg_id=False),
        _moved(w, "delivered", "ord-a", "payment.captured", 7),
        _moved(w, "delivered", "ord-a", "payment.captured", 9),
    ])
    [v] = verdict(w).violations
    assert v.rule == "event-stored-once" and v.actual["stream_seqs"] == [7, 9]
    assert "seq 9 (seen delivered to payment)" in v.message


def test_duplicates_redeliveries_and_other_events_are_not_a_second_store() -> None:
    """A retry the dedup window dropped, the same sequence delivered again, and different
    events or orders each stored once raise nothing."""
    w = _world()
    w.complete("ord-b")
    w.history.attach_messages([
        _published(w, "ord-a", "customer.checked", 3, duplicate=False),
        _published(w, "ord-a", "customer.checked", 3, duplicate=True),
        _published(w, "ord-a", "payment.captured", 5, duplicate=False),
        _published(w, "ord-b", "customer.checked", 4, duplicate=False),
        _published(w, "ord-b", "payment.captured", 6, duplicate=None),  # no PubAck seen
        _moved(w, "delivered", "ord-a", "customer.checked", 3),
        _moved(w, "redelivered", "ord-a", "customer.checked", 3, delivery=2),
        _moved(w, "acked", "ord-a", "customer.checked", 3, delivery=2),
        _moved(w, "working", "ord-a", "customer.checked", 3, delivery=2),
        _moved(w, "delivered", "ord-b", "payment.captured", 6),
    ])
    assert verdict(w).ok


def test_the_witness_puts_broker_lines_between_the_journal_lines() -> None:
    """A ledger violation of a choreographed order: its witness has the order's events
    in time order with its HTTP calls, the "still working" replies left out, and no
    other order's events."""
    w = SynthWorld()
    w.order("ord-a")
    w.lookup("ord-a")
    w.history.attach_messages([
        _published(w, "ord-a", "customer.checked", 2, duplicate=False),
        _moved(w, "delivered", "ord-a", "customer.checked", 2),
        _moved(w, "working", "ord-a", "customer.checked", 2),
        _published(w, "ord-b", "customer.checked", 3, duplicate=False),
    ])
    w.capture("ord-a")
    w.history.attach_messages([_moved(w, "redelivered", "ord-a", "customer.checked", 2, 2)])
    w.capture("ord-a", key="ord-a:capture:again")
    w.report("ord-a", "running")
    result = verdict(w)
    [v] = [v for v in result.violations if v.rule == "double-charge"]
    assert [m["kind"] for m in v.messages] == ["published", "delivered", "redelivered"]
    text = failure_text(result, w.history.t0)
    lines = text[text.index("journal and broker:"):].splitlines()
    order = [i for i, line in enumerate(lines)
             if "payment POST /payments" in line or "redelivered" in line]
    assert ["redelivered" in lines[i] for i in order] == [False, True, False], text
    assert "ord-b" not in text and "working" not in text
    html = render_html(result, View(w.snapshot()))
    assert "Journal lines and broker messages" in html
    assert "<code>redelivered customer.checked</code>" in html
    assert "to payment (delivery 2, seq 2)" in html


def test_a_run_without_a_broker_keeps_its_witness() -> None:
    """An orchestrator's witness: no broker lines, the journal heading as before, and no
    ``messages`` key in its JSON."""
    w = SynthWorld()
    w.order("ord-a")
    w.capture("ord-a")
    w.capture("ord-a", key="ord-a:capture:again")
    w.report("ord-a", "running")
    result = verdict(w)
    [v] = [v for v in result.violations if v.rule == "double-charge"]
    assert v.messages == [] and "messages" not in v.to_json()
    assert Violation.from_json(v.to_json()) == v
    text = failure_text(result, w.history.t0)
    assert "  journal:" in text and "broker" not in text
    html = render_html(result, View(w.snapshot()))
    assert "Journal lines (" in html and "broker messages" not in html


def test_messages_round_trip_through_json() -> None:
    v = Violation("event-stored-once", "ord-a", "twice",
                  messages=[{"t": 1.0, "kind": "published", "event": "order.placed"}])
    assert Violation.from_json(v.to_json()) == v
