"""Message faults as data: checked field by field, replayable, aimed only at the broker or
a participant, and refused (one message that says what to do) where the fault backend
is a real Toxiproxy, which cannot read the NATS protocol."""

from __future__ import annotations

from typing import Any

import pytest

from fracas.harness.faults import FaultValidationError, fault_kinds, from_json
from fracas.harness.faults.message import MessageFault, refusal
from fracas.harness.run.schedule import ScheduleError, parse_schedule

MESSAGE_KINDS = {"message_duplicate", "message_late", "message_crash", "message_lost_puback",
                 "message_reorder", "message_pause", "message_publish_crash"}  # fmt: skip


def test_the_message_family_has_its_seven_kinds() -> None:
    assert {k for k, c in fault_kinds().items() if c.family == "message"} == MESSAGE_KINDS


@pytest.mark.parametrize(("data", "field", "says"), [
    ({"kind": "message_duplicate", "target": "broker", "params": {}},
     "params.event", "Set params.event to one of"),
    ({"kind": "message_duplicate", "target": "broker", "params": {"event": "customer.chekced"}},
     "params.event", 'Did you mean "customer.checked"'),
    ({"kind": "message_late", "target": "broker", "params": {"event": "order.placed"}},
     "params.delay_ms", "Set params.delay_ms to a whole number"),
    ({"kind": "message_late", "target": "broker",
      "params": {"event": "order.placed", "delay_ms": -1}}, "params.delay_ms", "from 0"),
    ({"kind": "message_reorder", "target": "broker",
      "params": {"event": "payment.captured", "then_event": "payment.captured"}},
     "params.then_event", "another event"),
    ({"kind": "message_crash", "target": "participant:payment",
      "params": {"event": "customer.checked", "moment": "during"}}, "params.moment", "before_ack"),
    ({"kind": "message_pause", "target": "participant:payment",
      "params": {"event": "customer.checked", "seconds": 0}}, "params.seconds", "from 0.1"),
    ({"kind": "message_duplicate", "target": "broker",
      "params": {"event": "customer.checked", "times": 0}}, "params.times", "from 1"),
])  # fmt: skip
def test_bad_params_name_the_field(data: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(FaultValidationError) as info:
        from_json(data)
    assert info.value.field == field
    assert says in str(info.value)


def test_every_message_kind_round_trips_its_json() -> None:
    for data in [
        {"kind": "message_duplicate", "target": "broker",
         "params": {"event": "customer.checked", "order_id": "ord-0002", "consumer": "payment"}},
        {"kind": "message_late", "target": "broker",
         "params": {"event": "payment.captured", "delay_ms": 1500}},
        {"kind": "message_lost_puback", "target": "broker", "params": {"event": "customer.checked"}},
        {"kind": "message_reorder", "target": "broker",
         "params": {"event": "payment.captured", "then_event": "order.completed"}},
        {"kind": "message_crash", "target": "participant:payment",
         "params": {"event": "customer.checked", "moment": "after_ack"}},
        {"kind": "message_pause", "target": "participant:payment",
         "params": {"event": "customer.checked", "seconds": 5}},
        {"kind": "message_publish_crash", "target": "orchestrator",
         "params": {"event": "order.completed", "order_id": "ord-0001"}},
        {"kind": "message_publish_crash", "target": "participant:payment",
         "params": {"event": "payment.refunded"}},
    ]:  # fmt: skip
        fault = from_json(data)
        assert isinstance(fault, MessageFault)
        assert from_json(fault.dumps()) == fault
        for key, value in data["params"].items():
            assert fault.params[key] == value


@pytest.mark.parametrize(("kind", "target", "says"), [
    ("message_duplicate", "payment", 'set target to "broker"'),
    ("message_duplicate", "participant:payment", 'set target to "broker"'),
    ("message_crash", "broker", '"participant:NAME"'),
    ("message_pause", "orchestrator", '"participant:NAME"'),
    ("message_publish_crash", "broker", '"participant:NAME" or, in a hybrid, "orchestrator"'),
])  # fmt: skip
def test_a_schedule_aims_message_faults_at_the_broker_or_a_participant(
    kind: str, target: str, says: str,
) -> None:
    fault = {"kind": kind, "target": target, "params": {"event": "customer.checked"}}
    with pytest.raises(ScheduleError, match="faults\\[0\\].fault.target") as info:
        parse_schedule([{"fault": fault, "at": 0}])
    assert says in str(info.value)


def test_a_real_toxiproxy_refuses_message_faults_with_one_message_and_keeps_network_ones() -> None:
    network = {"kind": "latency", "target": "broker", "params": {"latency_ms": 10}}
    late = {"kind": "message_late", "target": "broker",
            "params": {"event": "order.placed", "delay_ms": 10}}  # fmt: skip
    assert refusal([network], reads_nats=False, backend="binary") is None
    assert refusal([network, late], reads_nats=True, backend="embedded") is None
    text = refusal([network, late, late], reads_nats=False, backend="binary")
    assert text is not None and text.startswith("faults[1]: message_late is a message fault")
    assert "embedded fault proxy" in text and "the binary backend" in text
    assert "--fault-backend embedded" in text and 'network faults on "broker"' in text
