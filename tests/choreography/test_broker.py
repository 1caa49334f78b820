"""The broker the harness runs: a real nats-server with JetStream, on loopback only, its
store in the run's state dir, set up with the choreography's settings, and gone after."""

from __future__ import annotations

from pathlib import Path

import pytest
from choreo_helpers import listen_addresses

from fracas.harness.broker.link import BrokerLink
from fracas.harness.broker.server import start_broker
from fracas.harness.broker.settings import ConsumerSettings, StreamSettings
from fracas.harness.kit.net import is_listening

LOOPBACK_HEX = {"0100007F"}  # 127.0.0.1 as /proc/net/tcp writes it
SETTINGS = StreamSettings(
    stream="FRACAS_SAGA", subjects=("fracas.saga.>",), ack_wait=1.5, max_deliver=7,
    dedup_window=30.0,
    consumers=(ConsumerSettings("payment", ("fracas.saga.customer.checked",)),
               ConsumerSettings("orders", ("fracas.saga.>",))),
)


def test_the_broker_listens_on_loopback_keeps_its_store_in_the_state_dir_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    broker = start_broker(tmp_path / "state", tmp_path / "logs", timeout=30)
    try:
        assert listen_addresses(broker.port) == LOOPBACK_HEX
        assert listen_addresses(broker.monitor_port) == LOOPBACK_HEX
        link = BrokerLink(broker.url)
        try:
            link.setup(SETTINGS)
            link.publish("fracas.saga.order.placed", {"order_id": "o1"}, {"Nats-Msg-Id": "o1"})
        finally:
            link.close()
        assert broker.store_dir.is_relative_to(tmp_path / "state")
        assert any((broker.store_dir).rglob("*.blk")), "no stream block in the state dir"
    finally:
        broker.stop()
    assert not broker.process.alive
    assert not is_listening(broker.port) and not is_listening(broker.monitor_port)


def test_the_stream_and_consumers_take_the_declared_settings_and_a_reset(tmp_path: Path) -> None:
    broker = start_broker(tmp_path / "state", tmp_path / "logs", timeout=30)
    link = BrokerLink(broker.url)
    try:
        link.setup(SETTINGS)
        payment = link.consumer_state("FRACAS_SAGA", "payment")
        assert (payment.ack_wait, payment.max_deliver) == (1.5, 7)
        assert link.dedup_window("FRACAS_SAGA") == 30.0
        first = link.publish("fracas.saga.customer.checked", {"order_id": "o1"},
                             {"Nats-Msg-Id": "o1:customer.checked"})
        again = link.publish("fracas.saga.customer.checked", {"order_id": "o1"},
                             {"Nats-Msg-Id": "o1:customer.checked"})
        assert (first.duplicate, again.duplicate, again.seq) == (False, True, first.seq)
        assert link.stored("FRACAS_SAGA") == 1
        assert link.consumer_state("FRACAS_SAGA", "payment").num_pending == 1
        link.setup(SETTINGS)  # between runs: nothing of the last one is left
        assert link.stored("FRACAS_SAGA") == 0
        assert link.consumer_state("FRACAS_SAGA", "payment").num_pending == 0
    finally:
        link.close()
        broker.stop()


def test_a_stream_whose_old_store_is_not_gone_yet_is_asked_for_again() -> None:
    """Made anew right after its deletion, on a busy machine, the stream was refused
    with "error creating store for stream" (a hybrid's soak ended a slice on it): that
    answer is asked again, a few times; any other refusal goes up at once. (The broker's
    answers are stood in for here: a real server gives this one only under load.)"""
    import asyncio

    from nats.js.errors import ServerError

    from fracas.harness.broker.link import STORE_NOT_READY, add_stream_anew

    calls: list[object] = []

    class Busy:
        async def add_stream(self, config: object) -> None:
            calls.append(config)
            if len(calls) < 3:
                raise ServerError(code=500, err_code=STORE_NOT_READY,
                                  description="error creating store for stream")  # fmt: skip

    asyncio.run(add_stream_anew(Busy(), "config", pause=0.0))
    assert calls == ["config"] * 3

    class Refusing:
        async def add_stream(self, config: object) -> None:
            calls.append(config)
            raise ServerError(code=400, err_code=10058, description="stream name in use")

    calls.clear()
    with pytest.raises(ServerError):
        asyncio.run(add_stream_anew(Refusing(), "config", pause=0.0))
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(ServerError):  # and the store's refusal too, once the tries run out
        asyncio.run(add_stream_anew(Busy(), "config", tries=2, pause=0.0))
    assert len(calls) == 2
