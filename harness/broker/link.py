"""The harness's own connection to the broker: set up, place orders, read the accounting.

nats-py is asyncio and the harness is threads, so the link runs one event loop in a
daemon thread and each call waits for its coroutine with a deadline. It connects to the
broker directly, never through the fault proxy: a toxic between a participant and the
broker must not also slow the harness placing orders or reading what the broker counted.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from fracas.harness.broker.settings import ConsumerSettings, StreamSettings

T = TypeVar("T")


class BrokerError(RuntimeError):
    """The broker could not be reached, or refused a call; says which and why."""


@dataclass(frozen=True)
class Published:
    """What the broker answered a publish: the stream sequence, and whether it dropped the
    message as a duplicate of one with the same message id (its dedup window)."""

    seq: int
    duplicate: bool


@dataclass(frozen=True)
class ConsumerState:
    """The broker's own accounting of one consumer (JetStream consumer info)."""

    name: str
    #: Deliveries so far, redeliveries included (the consumer sequence): more than the
    #: events it was given means some came again.
    delivered: int
    ack_floor: int
    num_ack_pending: int
    #: Redelivered events still waiting for their ack (JetStream's count: it drops back
    #: once they are acked, so it shows a redelivery only while it is pending).
    num_redelivered: int
    num_pending: int
    num_waiting: int
    #: The settings it was made with, as the broker holds them.
    ack_wait: float
    max_deliver: int


class BrokerLink:
    """One NATS connection, used from any thread; ``close`` stops its loop thread."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        import nats  # the choreography extra; imported only when a broker is used

        self.url = url
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fracas-broker-link", daemon=True
        )
        self._thread.start()
        try:
            self._nc: Any = self._run(
                nats.connect(url, connect_timeout=timeout, max_reconnect_attempts=-1,
                             reconnect_time_wait=0.1)  # fmt: skip
            )
        except BaseException:
            self._stop_loop()
            raise
        self._js: Any = self._nc.jetstream(timeout=timeout)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout if timeout is not None else self.timeout + 1)
        except TimeoutError:
            future.cancel()
            raise BrokerError(f"the broker at {self.url} did not answer in time") from None
        except Exception as exc:
            if isinstance(exc, BrokerError):
                raise
            raise BrokerError(f"broker at {self.url}: {type(exc).__name__}: {exc}") from exc

    # -- set-up ----------------------------------------------------------------------
    def setup(self, settings: StreamSettings) -> None:
        """The stream and every consumer, made anew: nothing of an earlier run (stored
        events, deliveries, acks, the dedup window) is left in them."""
        self._run(self._setup(settings), timeout=self.timeout * 3)

    async def _setup(self, s: StreamSettings) -> None:
        from nats.js.api import StreamConfig
        from nats.js.errors import NotFoundError

        try:
            await self._js.delete_stream(s.stream)
        except NotFoundError:
            pass
        await add_stream_anew(self._js, StreamConfig(
            name=s.stream, subjects=list(s.subjects), duplicate_window=s.dedup_window,
        ))  # fmt: skip
        for consumer in s.consumers:
            await self._js.add_consumer(s.stream, _consumer_config(consumer, s))

    # -- orders and accounting -------------------------------------------------------
    def publish(self, subject: str, body: dict[str, Any], headers: dict[str, str]) -> Published:
        ack = self._run(
            self._js.publish(subject, json.dumps(body).encode(), headers=dict(headers))
        )
        return Published(seq=int(ack.seq), duplicate=bool(ack.duplicate))

    def consumer_state(self, stream: str, name: str) -> ConsumerState:
        info = self._run(self._js.consumer_info(stream, name))
        return ConsumerState(
            name=name,
            delivered=int(info.delivered.consumer_seq) if info.delivered else 0,
            ack_floor=int(info.ack_floor.consumer_seq) if info.ack_floor else 0,
            num_ack_pending=int(info.num_ack_pending or 0),
            num_redelivered=int(info.num_redelivered or 0),
            num_pending=int(info.num_pending or 0),
            num_waiting=int(info.num_waiting or 0),
            ack_wait=float(info.config.ack_wait or 0),
            max_deliver=int(info.config.max_deliver or 0),
        )

    def unsettled(self, stream: str) -> int:
        """Events the broker still owes some consumer: not yet delivered, or delivered and
        not acked (a lost ack's redelivery is still to come). Zero: nothing more will move."""
        infos = self._run(self._js.consumers_info(stream))
        return sum(int(i.num_ack_pending or 0) + int(i.num_pending or 0) for i in infos)

    def wait_settled(self, stream: str, timeout: float) -> bool:
        """Wait until the broker owes no consumer an event (``unsettled``): a redelivery
        after a lost ack can come after every order reported its end, and its effect (a
        second capture) must be in the ledgers the checkers read. False when the wait
        ran out (a participant that never acks: the checkers judge what is)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.unsettled(stream) == 0:
                    return True
            except BrokerError:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def body_at(self, stream: str, seq: int) -> Any:
        """The JSON body the stream holds at ``seq``."""
        msg = self._run(self._js.get_msg(stream, seq=seq))
        return json.loads(msg.data)

    def stored(self, stream: str) -> int:
        """How many messages the stream holds (a duplicate dropped by dedup is not one)."""
        info = self._run(self._js.stream_info(stream))
        return int(info.state.messages)

    def dedup_window(self, stream: str) -> float:
        info = self._run(self._js.stream_info(stream))
        return float(info.config.duplicate_window or 0)

    def tap(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback`` with every message the broker moves (a ``>`` subscription: it
        sees publishes, deliveries to consumers and acks alike), on the link's thread."""

        async def deliver(msg: Any) -> None:
            callback(msg)

        self._run(self._nc.subscribe(">", cb=deliver))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._run(self._nc.close(), timeout=self.timeout)
        except BrokerError:
            pass
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)
        self._loop.close()


def _consumer_config(consumer: ConsumerSettings, s: StreamSettings) -> Any:
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    subjects = list(consumer.subjects)
    one = len(subjects) == 1
    return ConsumerConfig(
        durable_name=consumer.name,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=s.ack_wait,
        max_deliver=s.max_deliver,
        filter_subject=subjects[0] if one else None,
        filter_subjects=None if one else subjects,
    )


#: JetStream's "error creating store for stream", answered to the stream made anew at a
#: reset right after its deletion: a hybrid's soak, on a busy machine, ended its third
#: slice on it (an AdapterError at reset, then Hypothesis's FlakyFailure). It is the
#: server's to clear, so the harness asks again.
STORE_NOT_READY = 10049


async def add_stream_anew(js: Any, config: Any, tries: int = 20, pause: float = 0.05) -> None:
    """``js.add_stream(config)``, asked again while the server answers that the store of
    the stream just deleted is not gone yet (up to ``tries`` times, ``pause`` apart and
    longer each time); any other error at once."""
    from nats.js.errors import ServerError

    for attempt in range(1, tries + 1):
        try:
            await js.add_stream(config)
            return
        except ServerError as exc:
            if getattr(exc, "err_code", None) != STORE_NOT_READY or attempt == tries:
                raise
        await asyncio.sleep(pause * attempt)
