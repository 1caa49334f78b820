"""The consume loop every bundled participant runs: fetch, dedup, act, outbox, publish, ack.

The order of those steps is what makes a participant correct under at-least-once
delivery; each ``--bug`` moves one of them (docs/choreography.md lists the defects):

- ``ack-first``: ack before the effect, so a crash in between loses the step;
- ``no-dedup``: no dedup mark and no idempotency key, so a redelivery acts twice;
- ``no-outbox``: a failure or compensation event is published after the ack, outside
  the state change, so a crash in between loses it;
- ``cancel-first``: a compensation that comes before the create it undoes (payment and
  inventory act on one event side by side) finds nothing and goes on, so the create
  made after it is never undone;
- ``retry-no-msgid``: a publish whose ack did not come back is retried without its
  message id, so the broker stores it twice.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import nats
import view
from calls import Services
from health import serve
from roles import HANDLERS, NotYet, Outcome, view_status
from store import Store

from fracas.fakes.events import BY_NAME, MSG_ID_HEADER, event_of, msg_id, subject

BUGS = ("ack-first", "no-dedup", "no-outbox", "cancel-first", "retry-no-msgid")
PUBLISH_TIMEOUT = 1.0


class Participant:
    def __init__(self, role: str, bugs: frozenset[str]) -> None:
        self.role, self.bugs = role, bugs
        self.services = Services()
        self.store = Store(Path(os.environ["FRACAS_STATE_DIR"]) / "participant.db")
        self.ack_wait = float(os.environ.get("FRACAS_ACK_WAIT", "2"))
        self.ready = False
        self.js: Any = None
        self._outbox_lock = asyncio.Lock()

    def bug(self, name: str) -> bool:
        return name in self.bugs

    def key(self, order_id: str, step: str) -> str | None:
        return None if self.bug("no-dedup") else f"{order_id}:{step}"

    async def run(self) -> None:
        host, port = os.environ["FRACAS_LISTEN"].rsplit(":", 1)
        server = await serve(host, int(port), self.route)
        nc = await nats.connect(os.environ["FRACAS_BROKER_URL"], max_reconnect_attempts=-1,
                                reconnect_time_wait=0.1, connect_timeout=2)
        self.js = nc.jetstream(timeout=PUBLISH_TIMEOUT)
        sub = await self.js.pull_subscribe_bind(durable=os.environ["FRACAS_CONSUMER"],
                                                stream=os.environ["FRACAS_STREAM"])
        await self.flush()
        self.ready = True
        async with server:
            while True:
                try:
                    msgs = await sub.fetch(32, timeout=1.0)
                except (nats.errors.TimeoutError, nats.errors.ConnectionClosedError):
                    continue
                except Exception:  # noqa: BLE001 - a broker under faults: fetch again
                    await asyncio.sleep(0.1)
                    continue
                for failed in await asyncio.gather(*(self.handle(m) for m in msgs),
                                                   return_exceptions=True):
                    if isinstance(failed, Exception):  # unacked: the broker gives it again
                        print(f"{self.role}: {type(failed).__name__}: {failed}", flush=True)

    async def route(self, method: str, path: str, sent: Any) -> tuple[int, Any]:
        return await view.route(self, method, path, sent)

    async def handle(self, msg: Any) -> None:
        event = event_of(msg.subject)
        body = json.loads(msg.data)
        mid = (msg.headers or {}).get(MSG_ID_HEADER) or f"seq:{msg.metadata.sequence.stream}"
        if event is None:
            await msg.term()
            return
        if self.store.seen(mid) and not self.bug("no-dedup"):
            await self.flush()
            await msg.ack()
            return
        if self.role == "orders":
            oid = body["order_id"]
            asked = body if event == "customer.review_requested" else None
            self.store.set_view(mid, oid, view_status(event, body, self.store.view(oid)), asked)
            await msg.ack()
            return
        if self.bug("ack-first"):
            await msg.ack()
        beat = asyncio.create_task(self._heartbeat(msg))
        try:
            outcome = await self._act(event, body)
        except NotYet as wait:  # delivered again later; each wait counts as a delivery
            print(f"{self.role}: {event}: {wait}", flush=True)
            await msg.nak(delay=self.later(msg.metadata.num_delivered))
            return
        finally:
            beat.cancel()
        await self._finish(msg, mid, outcome)

    def later(self, delivered: int) -> float:
        """How long an event that came too early waits before it is delivered again:
        doubling from 0.1 s up to two ack waits, so the broker's ``max_deliver`` (20)
        covers a minute of waiting, longer than any fault the search holds."""
        return min(0.1 * 2 ** max(delivered - 1, 0), 2 * self.ack_wait)

    async def _act(self, event: str, body: dict[str, Any]) -> Outcome:
        """The role's handler, again after a garbled answer: its calls carry idempotency
        keys, so asking again replays what the first call did."""
        delay = 0.05
        while True:
            try:
                return await HANDLERS[self.role](self, event, body)
            except (KeyError, TypeError, ValueError) as exc:
                print(f"{self.role}: {event} {body.get('order_id')}: {exc}", flush=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _finish(self, msg: Any, mid: str, outcome: Outcome) -> None:
        rows = [(e, msg_id(b["order_id"], e), b) for e, b in outcome.publish]
        made = (rows[0][2]["order_id"], outcome.created) if outcome.created is not None and rows \
            else None
        late = [r for r in rows if BY_NAME[r[0]].role in ("failure", "compensation")]
        if self.bug("no-outbox") and late:
            self.store.commit(mid, [], made)
            await msg.ack()
            for event, mid_out, body in late:  # after the ack, outside the state change
                await self.publish(event, mid_out, body)
            return
        self.store.commit(mid, rows, made)
        await self.flush()
        if not self.bug("ack-first"):
            await msg.ack()

    async def _heartbeat(self, msg: Any) -> None:
        """Tell the broker the event is still being worked on, so a slow call is not taken
        for a crash and the event is not given to us again meanwhile."""
        while True:
            await asyncio.sleep(self.ack_wait / 3)
            try:
                await msg.in_progress()
            except Exception:  # noqa: BLE001 - no connection now; the next beat tries again
                pass

    async def flush(self) -> None:
        """Publish what the outbox holds, in order; a row goes once the broker stored it."""
        async with self._outbox_lock:
            for row_id, event, mid, body in self.store.pending():
                await self.publish(event, mid, body)
                self.store.sent(row_id)

    async def publish(self, event: str, mid: str, body: dict[str, Any]) -> None:
        headers = {MSG_ID_HEADER: mid, "X-Correlation-ID": body["order_id"]}
        data = json.dumps(body).encode()
        while True:
            try:
                await self.js.publish(subject(event), data, headers=headers)
                return
            except Exception:  # noqa: BLE001 - no ack: stored or not, we cannot tell
                if self.bug("retry-no-msgid"):
                    headers = {"X-Correlation-ID": body["order_id"]}
                await asyncio.sleep(0.1)
