"""The NATS framing the message toxics read: whole frames out of any cut of the stream,
with subject, reply, headers and the consumer of a delivery; anything else is no frame."""

from __future__ import annotations

import pytest

from fracas.harness.toxiproxy.natswire import Aim, BadFrame, Framer
from fracas.harness.toxiproxy.toxics import REGISTRY

HDR = b"NATS/1.0\r\nNats-Msg-Id: ord-1:customer.checked\r\nX-Correlation-ID: ord-1\r\n\r\n"
BODY = b'{"order_id": "ord-1"}'
ACK = "$JS.ACK.FRACAS_SAGA.payment.1.4.2.1796461955068199900.0"
DELIVERY = (f"HMSG fracas.saga.customer.checked 7 {ACK} {len(HDR)} {len(HDR) + len(BODY)}\r\n"
            .encode() + HDR + BODY + b"\r\n")  # fmt: skip
STREAM = b"PING\r\n" + DELIVERY + f"PUB {ACK} 0\r\n\r\n".encode() + b"+OK\r\n"


@pytest.mark.parametrize("cut", [1, 3, 7, 64, len(STREAM)])
def test_frames_come_whole_however_the_bytes_are_cut(cut: int) -> None:
    framer = Framer()
    frames = [f for i in range(0, len(STREAM), cut) for f in framer.feed(STREAM[i:i + cut])]
    assert [f.op for f in frames] == ["PING", "HMSG", "PUB", "+OK"]
    assert b"".join(f.raw for f in frames) == STREAM and framer.pending() == b""
    delivery = frames[1]
    assert (delivery.event, delivery.consumer, delivery.order_id) == (
        "customer.checked", "payment", "ord-1")
    assert Aim("customer.checked", "ord-1", "payment").delivery(delivery)
    assert not Aim("customer.checked", "ord-2").delivery(delivery)
    assert frames[2].subject == ACK and frames[2].payload == b""


def test_bytes_that_are_not_nats_are_no_frame() -> None:
    with pytest.raises(BadFrame):
        list(Framer().feed(b"MSG only-a-subject\r\n"))


def test_the_message_toxics_take_string_attributes_and_the_standard_ones_do_not() -> None:
    assert REGISTRY["nats_lose_ack"].string_attributes() == {"event", "order_id", "consumer", "key"}
    for name in ("latency", "bandwidth", "slicer", "timeout", "limit_data", "reset_peer"):
        assert REGISTRY[name].string_attributes() == frozenset()
