"""A hybrid saga as the system under test: an orchestrator that publishes events, and
participants that act on them (docs/choreography.md#hybrid).

The orchestrator keeps the part of the saga that needs its strong consistency, and the
harness talks to it as to any orchestrator: orders, statuses, reviews and its clock go
to it, and process faults aimed at ``orchestrator`` act on it. What it publishes
(its outcome events) is carried downstream by participants, each a process of its own
like a choreography's (``participant:NAME``), bound to a durable consumer the harness
creates. The harness starts the stream first, then everything side by side.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from fracas.harness.adapters.base import (
    AdapterError,
    OrchestratorEnv,
    ReviewResult,
    SubmitResult,
)
from fracas.harness.adapters.choreo_spec import ChoreographySpec
from fracas.harness.adapters.choreography import (
    member_env,
    participant_adapters,
    setup_stream,
    stream_settings,
)
from fracas.harness.adapters.process import ProcessAdapter
from fracas.harness.broker.link import BrokerLink
from fracas.harness.kit.procs import ManagedProcess

#: Where the bundled orchestrator says how many events its outbox still holds; an
#: orchestrator without it (404) is taken to publish nothing late.
OUTBOX_PATH = "/_admin/outbox"


class HybridAdapter:
    """Start, fault and talk to a hybrid (the ``OrchestratorAdapter`` protocol)."""

    name = "hybrid"
    quiet_start = False  # the stream is made anew before anything binds to it

    def __init__(self, spec: ChoreographySpec, orchestrator: ProcessAdapter, link: BrokerLink,
                 broker_url: str) -> None:  # fmt: skip
        self.spec = spec
        self.link = link
        self.settings = stream_settings(spec)
        self.core = orchestrator
        # Through the broker's fault proxy, as the participants: a network fault on
        # "broker" stands between the orchestrator and its events too.
        self.core.extra_env.update({"FRACAS_BROKER_URL": broker_url,
                                    "FRACAS_STREAM": self.settings.stream})  # fmt: skip
        self.members = participant_adapters(spec, broker_url)
        self.capabilities = self.core.capabilities
        self.call_timeout = max(self.core.call_timeout or 1.0, spec.ack_wait)
        self.description = (f"hybrid: {self.core.description} with participants "
                            f"{', '.join(self.members)}")  # fmt: skip

    # -- processes -------------------------------------------------------------------
    @property
    def participants(self) -> dict[str, ManagedProcess]:
        return {n: m.process for n, m in self.members.items() if m.process is not None}

    @property
    def url(self) -> str:
        return self.core.url

    @property
    def pid(self) -> int | None:
        return self.core.pid

    @property
    def process(self) -> ManagedProcess | None:
        return self.core.process

    def start(self, env: OrchestratorEnv, timeout: float = 20.0) -> None:
        """A fresh stream and consumers, then the orchestrator (on ``env``'s port, its
        state in a folder of its own) and every participant side by side."""
        setup_stream(self.link, self.settings)
        jobs: list[tuple[ProcessAdapter, OrchestratorEnv]] = [
            (self.core, member_env(env, "orchestrator", env.listen_port)),
            *((m, member_env(env, n)) for n, m in self.members.items()),
        ]
        with ThreadPoolExecutor(len(jobs)) as pool:
            done = [pool.submit(a.start, e, timeout) for a, e in jobs]
        for future in done:
            future.result()

    def prestart(self, env: OrchestratorEnv) -> None:
        raise AdapterError("a hybrid starts no spares (its stream is made anew first)")

    def stop(self) -> None:
        for member in (self.core, *self.members.values()):
            member.stop()

    def crash(self) -> None:
        for member in (self.core, *self.members.values()):
            if member.process is not None:
                member.crash()

    def restart(self, timeout: float = 20.0) -> None:
        self.core.restart(timeout)

    def pause(self) -> None:
        self.core.pause()

    def resume(self) -> None:
        self.core.resume()

    def healthy(self) -> bool:
        return self.core.healthy()

    def wait_published(self, timeout: float) -> bool:
        """Wait until the orchestrator's outbox is empty: an order it reported ended may
        still have its event to publish (after a broker outage, or a crash and restart),
        and the participants act on it only then. False when the wait ran out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                resp = httpx.get(self.core.url + OUTBOX_PATH, timeout=2.0, trust_env=False)
                if resp.status_code == 404 or resp.json().get("pending") == 0:
                    return True
            except (httpx.HTTPError, ValueError, AttributeError):
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def wait_downstream(self, timeout: float) -> bool:
        """Its outbox empty, then the broker owing no consumer an event: what the ended
        orders set off downstream has acted. The runner's settle calls it, so every
        caller of the settle (a run, the stateful search) reads the ledgers after it."""
        deadline = time.monotonic() + timeout
        if not self.wait_published(timeout):
            return False
        return self.link.wait_settled(self.settings.stream, max(0.0, deadline - time.monotonic()))

    # -- the contract: the orchestrator's ------------------------------------------
    def submit(self, order: dict[str, Any]) -> SubmitResult:
        return self.core.submit(order)

    def status(self, order_id: str) -> dict[str, Any] | None:
        return self.core.status(order_id)

    def review(self, order_id: str, decision: str) -> ReviewResult:
        return self.core.review(order_id, decision)

    def advance_clock(self, seconds: float) -> None:
        self.core.advance_clock(seconds)
