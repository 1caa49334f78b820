"""Message faults: what at-least-once delivery does to a choreography, made to happen.

A choreographed saga lives on its broker's guarantees: an event may come twice, late,
out of order, or after its consumer crashed; a publisher may not learn whether its
event was stored. Each kind here makes one of those happen for real, aimed at one
event (and optionally one order, one consumer) the way an HTTP rule is aimed at one
request: the embedded fault proxy reads the NATS protocol between the participants and
the broker (``toxiproxy/natswire.py``) and loses an ack, holds a delivery, or drops a
PubAck, and JetStream's own ack wait, redelivery and dedup window do the rest. No
client is mocked: the participants talk to a real broker through a proxy.

A real Toxiproxy moves bytes and has none of these toxics, so message faults are
refused with a real Toxiproxy as the fault backend (``refusal``); network faults on the
``broker`` target still work there.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from fracas.fakes.events import BY_NAME
from fracas.harness.faults.base import Fault, Param, fault_kinds
from fracas.harness.faults.context import FaultContext, FaultError
from fracas.harness.faults.process import LIFECYCLE, PARTICIPANT, ensure_running, process_of
from fracas.harness.kit.toxiclient import ToxiClient, ToxiproxyError

#: Numbers each application of a message fault in this process (``attributes``).
_APPLICATIONS = itertools.count(1)
BROKER = "broker"
#: Seconds between reads of a toxic's ``fired`` count by a fault that acts on a process.
WATCH_SECONDS = 0.02

EVENT = Param("event", "str", "the saga event it acts on (contract §7)",
              choices=tuple(BY_NAME), example="customer.checked")  # fmt: skip
ORDER_ID = Param("order_id", "str", "only this order's event (any order when left out)",
                 default=None, example="ord-0001")  # fmt: skip
CONSUMER = Param("consumer", "str",
                 "only its delivery to this participant (any consumer when left out)",
                 default=None, example="payment")  # fmt: skip
TIMES = Param("times", "int", "how many matching messages it acts on",
              default=1, minimum=1, maximum=100)  # fmt: skip


class MessageFault(Fault):
    """Toxics on the broker's proxy, all of them or none, named ``<id>-<stream>``."""

    family = "message"
    lies_in_wait = True  # for the one message it is aimed at
    #: The toxic type and the streams it goes on (both: it reads one way, acts the other).
    toxic_type: ClassVar[str]
    streams: ClassVar[tuple[str, ...]] = ("downstream",)
    #: What a target must be: ``broker``, or ``participant:NAME`` for kinds that act on it.
    on_participant: ClassVar[bool] = False

    @classmethod
    def target_problem(cls, target: str) -> str | None:
        """Why ``target`` is no target of this kind (None: it is one)."""
        if cls.on_participant:
            if target.startswith(PARTICIPANT) and len(target) > len(PARTICIPANT):
                return None
            return (f"a {cls.kind} fault acts on a participant: set target to "
                    f'"participant:NAME", e.g. "participant:payment"')  # fmt: skip
        if target == BROKER:
            return None
        return f'a {cls.kind} fault acts on the broker\'s proxy: set target to "broker"'

    def attributes(self) -> dict[str, Any]:
        """The toxic's attributes from the params; ``key`` joins its two directions, one
        application's: the proxy keeps what a fault's toxics saw by it (the reply
        subjects it aims at, how many it took), and under the fault's id alone the same
        fault applied in the next run (a failure confirmed, a shrink step, a replay)
        found its aimed message used up and never acted."""
        p = self.params
        key = getattr(self, "_key", self.id)
        return {"event": p["event"], "order_id": p.get("order_id") or "", "key": key}

    def toxic_name(self, stream: str) -> str:
        return f"{self.id}-{stream}"

    def broker_proxy(self, ctx: FaultContext) -> tuple[ToxiClient, str]:
        problem = self.target_problem(self.target)
        if problem is not None:
            raise FaultError(f"{self.kind} fault on {self.target!r}: {problem}")
        client = ctx.toxiproxy
        proxy = ctx.proxy_name(BROKER)
        if client is None or proxy is None:
            raise FaultError(f"{self.kind} fault: there is no broker behind a fault proxy "
                             "here; message faults act on a choreography (docs/choreography.md)")
        return client, proxy

    def apply(self, ctx: FaultContext) -> None:
        client, proxy = self.broker_proxy(ctx)
        self._key = f"{self.id}#{next(_APPLICATIONS)}-{os.getpid()}"
        added: list[str] = []
        try:
            for stream in self.streams:
                added.append(client.add_toxic(proxy, self.toxic_type, name=self.toxic_name(stream),
                                              stream=stream, attributes=self.attributes()).name)  # fmt: skip
        except ToxiproxyError as exc:
            for name in added:
                client.remove_toxic(proxy, name, missing_ok=True)
            if "invalid toxic type" in str(exc):
                raise FaultError(refusal_text(self.kind, "this fault proxy")) from exc
            raise FaultError(f"{self.kind} fault (proxy {proxy}): {exc}") from exc

    def heal(self, ctx: FaultContext) -> None:
        client, proxy = self.broker_proxy(ctx)
        try:
            for stream in self.streams:
                client.remove_toxic(proxy, self.toxic_name(stream), missing_ok=True)
        except ToxiproxyError as exc:
            raise FaultError(f"healing {self.kind} (proxy {proxy}): {exc}") from exc

    def fired(self, ctx: FaultContext) -> int:
        """How many messages the toxic acted on, by its own count."""
        client, proxy = self.broker_proxy(ctx)
        stream = self.streams[-1]
        return int(client.toxic(proxy, self.toxic_name(stream)).attributes.get("fired", 0))


class ProcessMessageFault(MessageFault):
    """A message fault that also acts on the participant it is aimed at, the moment its
    toxic fired: the toxic marks the instant on the wire (an ack, a delivery), a watcher
    thread reads its count and acts. The nemesis's thread is never blocked by the wait."""

    on_participant = True
    spills = True  # a crash or pause of the participant stops every delivery it holds

    @property
    def participant(self) -> str:
        return self.target.removeprefix(PARTICIPANT)

    def attributes(self) -> dict[str, Any]:
        return {**super().attributes(), "consumer": self.participant}

    def act(self, ctx: FaultContext) -> None:
        """What happens to the process once the toxic fired."""
        raise NotImplementedError

    def apply(self, ctx: FaultContext) -> None:
        process_of(self, ctx)  # an unknown participant is an error now, not in the thread
        super().apply(ctx)
        self._seen = 0
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, args=(ctx,), daemon=True,
                                         name=f"fracas-{self.kind}")  # fmt: skip
        self._watcher.start()

    def fired(self, ctx: FaultContext) -> int:
        """The count the watcher read last, while it watches: the nemesis asks too (to
        start the fault's ``for``), and one reader of the proxy is enough."""
        if getattr(self, "_stop", None) is not None and not self._stop.is_set():
            return self._seen
        return super().fired(ctx)

    def _watch(self, ctx: FaultContext) -> None:
        while not self._stop.wait(WATCH_SECONDS):
            try:
                self._seen = super().fired(ctx)
                if self._seen > 0:
                    self.act_when_still(ctx)
                    return
            except (ToxiproxyError, FaultError):
                continue  # the toxic is being removed: heal stops us next
            except RuntimeError:
                return  # the run ended without healing it (its client is closed)

    def act_when_still(self, ctx: FaultContext) -> None:
        """``act``, never inside another fault's start of a process (``process.LIFECYCLE``)."""
        with LIFECYCLE:
            self.act(ctx)

    def heal(self, ctx: FaultContext) -> None:
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
            self._watcher.join(10)
        super().heal(ctx)
        ensure_running(self.target, process_of(self, ctx), ctx)


def refusal_text(kind: str, backend: str) -> str:
    return (f"{kind} is a message fault: it needs fracas's embedded fault proxy, which "
            f"reads the NATS protocol between the participants and the broker, and "
            f"{backend} moves bytes only (a real Toxiproxy). Run with the embedded "
            f"backend (--fault-backend embedded, the default), or leave message faults "
            f"out: network faults on \"broker\" work with any backend.")  # fmt: skip


def refusal(faults: Iterable[Mapping[str, Any]], reads_nats: bool, backend: str) -> str | None:
    """One message for a schedule whose message faults this backend cannot carry (None:
    it can, or there are none). ``faults`` are the catalog's JSON forms, in order."""
    if reads_nats:
        return None
    kinds = fault_kinds()
    for i, fault in enumerate(faults):
        cls = kinds.get(str(fault.get("kind")))
        if cls is not None and issubclass(cls, MessageFault):
            return f"faults[{i}]: " + refusal_text(cls.kind, f"the {backend} backend")
    return None
