"""The broker the harness runs: a real nats-server with JetStream, on loopback only, its
store in the run's state dir, set up with the choreography's settings, and gone after."""

from __future__ import annotations

from pathlib import Path

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
