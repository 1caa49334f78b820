"""The event side's way out: a relay that publishes what the outbox table holds.

An end event is written to the outbox in the same SQLite transaction as the state
change it announces (``Store.outbox_add``), so once an order is saved as ended its event
is on disk too, and this relay publishes it whenever the broker can be reached: after a
broker outage, or after a crash, from the restarted process. A row is deleted only once
JetStream acknowledged it; a publish repeated after a lost acknowledgement carries the
same message id, so the broker's dedup window stores it once.

``--bug events-no-outbox`` publishes from memory after the commit instead
(``publish_later``): a crash between the commit and the broker's acknowledgement loses
the event, and the notification with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fracas.orchestrator.announce import CORRELATION_HEADER, MSG_ID_HEADER, SUBJECT_PREFIX
from fracas.orchestrator.store import Store

log = logging.getLogger("fracas.orchestrator.outbox")
PUBLISH_TIMEOUT = 1.0
RETRY = 0.1


class Relay:
    def __init__(self, store: Store, url: str) -> None:
        self.store = store
        self.url = url
        self._js: Any = None
        self._nc: Any = None
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Publish the outbox in order, forever; woken by a new row, else every 0.5 s."""
        while True:
            await self._connected()
            await self.store.durable()
            for row_id, event, mid, body in self.store.outbox_pending():
                await self.publish(event, mid, body)
                self.store.outbox_sent(row_id)
            try:
                await asyncio.wait_for(self._wake.wait(), 0.5)
            except TimeoutError:
                pass
            self._wake.clear()

    def publish_later(self, event: str, mid: str, body: dict[str, Any]) -> None:
        """The planted defect: publish after the commit, with nothing on disk to retry from."""

        async def later() -> None:
            await self.store.durable()
            await self._connected()
            await self.publish(event, mid, body)

        task = asyncio.create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def publish(self, event: str, mid: str, body: dict[str, Any]) -> None:
        """Until JetStream says it stored the event (or already had it by its id)."""
        headers = {MSG_ID_HEADER: mid, CORRELATION_HEADER: body["order_id"]}
        data = json.dumps(body).encode()
        while True:
            try:
                await self._js.publish(SUBJECT_PREFIX + event, data, headers=headers,
                                       timeout=PUBLISH_TIMEOUT)  # fmt: skip
                return
            except Exception as exc:  # noqa: BLE001 - no ack: stored or not, ask again
                log.debug("publish %s %s: %r", event, mid, exc)
                await asyncio.sleep(RETRY)

    async def _connected(self) -> None:
        """Connect once; nats-py reconnects by itself after that (the broker's proxy may
        be cut for a while: the first connect is retried too)."""
        while self._js is None:
            try:
                import nats  # the event side's extra: only needed with --events

                self._nc = await nats.connect(
                    self.url, max_reconnect_attempts=-1, reconnect_time_wait=0.1,
                    connect_timeout=2,
                )  # fmt: skip
                self._js = self._nc.jetstream(timeout=PUBLISH_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - broker unreachable: try again
                log.warning("broker %s: %r", self.url, exc)
                await asyncio.sleep(RETRY)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._nc is not None:
            try:
                await self._nc.close()
            except Exception:  # noqa: BLE001 - closing anyway
                pass

    def pending(self) -> int:
        return len(self.store.outbox_pending()) + len(self._tasks)
