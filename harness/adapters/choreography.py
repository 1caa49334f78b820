"""A choreography as the system under test: participant processes around a broker.

Nothing orchestrates a choreography, so the adapter plays the harness's part of the
orchestrator protocol with what the contract (docs/contract.md §7) gives: it places an
order by publishing ``order.placed`` (idempotent through the broker's dedup window, as
``POST /orders`` is on ``order_id``), and learns its end from the order view participant's
``GET /orders/{id}``. Each participant is a ``ProcessAdapter`` of its own, so health,
port races and restarts work as for an orchestrator; the process faults aimed at
"orchestrator" act on the order view, and ``participants`` hands the others out.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from fracas.fakes import events
from fracas.harness.adapters.base import AdapterError, OrchestratorEnv, ReviewResult, SubmitResult
from fracas.harness.adapters.choreo_spec import ChoreographySpec, ParticipantSpec
from fracas.harness.adapters.process import ProcessAdapter
from fracas.harness.broker.link import BrokerError, BrokerLink
from fracas.harness.broker.settings import ConsumerSettings, StreamSettings
from fracas.harness.kit.net import free_port
from fracas.harness.kit.procs import ManagedProcess


def stream_settings(spec: ChoreographySpec) -> StreamSettings:
    """The stream and one durable consumer per participant, as the spec declares them."""

    def subjects(p: ParticipantSpec) -> tuple[str, ...]:
        if "*" in p.consumes:
            return (events.SUBJECT_PREFIX + ">",)
        return tuple(events.subject(e) for e in p.consumes)

    return StreamSettings(
        stream=events.STREAM, subjects=(events.SUBJECT_PREFIX + ">",), ack_wait=spec.ack_wait,
        max_deliver=spec.max_deliver, dedup_window=spec.dedup_window,
        consumers=tuple(ConsumerSettings(p.name, subjects(p)) for p in spec.participants),
    )  # fmt: skip


def participant_adapters(spec: ChoreographySpec, broker_url: str) -> dict[str, ProcessAdapter]:
    """One process adapter per participant, with the broker's part of its environment."""
    extra = {"FRACAS_BROKER_URL": broker_url, "FRACAS_STREAM": events.STREAM,
             "FRACAS_ACK_WAIT": f"{spec.ack_wait:g}"}  # fmt: skip
    return {
        p.name: ProcessAdapter(
            p.command, name=p.name, cwd=spec.cwd, capabilities=p.capabilities,
            env={**p.env, **extra, "FRACAS_CONSUMER": p.name, "FRACAS_PARTICIPANT": p.name},
        )
        for p in spec.participants
    }  # fmt: skip


def member_env(env: OrchestratorEnv, name: str, port: int | None = None) -> OrchestratorEnv:
    """A member's own state dir and log under ``env``'s, on ``port`` or a free one."""
    state = env.state_dir / name
    state.mkdir(parents=True, exist_ok=True)
    logs = Path(env.log_path).parent
    return replace(env, listen_port=port or free_port(), state_dir=state,
                   log_path=logs / f"{env.state_dir.name}-{name}.log")  # fmt: skip


def setup_stream(link: BrokerLink, settings: StreamSettings) -> None:
    try:
        link.setup(settings)
    except BrokerError as exc:
        raise AdapterError(f"could not set up the broker's stream: {exc}") from exc


class ChoreographyAdapter:
    """Start, fault and talk to a choreography (the ``OrchestratorAdapter`` protocol)."""

    name = "choreography"
    quiet_start = False  # the stream is made anew before the participants bind to it

    def __init__(self, spec: ChoreographySpec, link: BrokerLink, broker_url: str) -> None:
        self.spec = spec
        self.link = link
        self.settings = stream_settings(spec)
        assert spec.view is not None, "a hybrid's spec goes to HybridAdapter"
        self.members = participant_adapters(spec, broker_url)
        self.view = self.members[spec.view]
        self.capabilities = self.view.capabilities
        self.description = (f"choreography of {', '.join(self.members)} "
                            f"(order view: {spec.view})")  # fmt: skip
        #: How long an order may sit still in a correct choreography (base.call_timeout):
        #: an event a crashed participant never acked comes again only after the ack wait.
        self.call_timeout = max(1.0, spec.ack_wait)

    # -- processes -------------------------------------------------------------------
    @property
    def participants(self) -> dict[str, ManagedProcess]:
        """Each running participant's process, by name: the process faults' targets."""
        return {n: m.process for n, m in self.members.items() if m.process is not None}

    @property
    def url(self) -> str:
        return self.view.url

    @property
    def pid(self) -> int | None:
        return self.view.pid

    @property
    def process(self) -> ManagedProcess | None:
        return self.view.process

    def _member_env(self, env: OrchestratorEnv, name: str) -> OrchestratorEnv:
        return member_env(env, name, env.listen_port if name == self.spec.view else None)

    def start(self, env: OrchestratorEnv, timeout: float = 20.0) -> None:
        """A fresh stream and consumers, then every participant, each on its own port and
        state dir under ``env``'s; returns once all are healthy."""
        setup_stream(self.link, self.settings)
        envs = {name: self._member_env(env, name) for name in self.members}
        with ThreadPoolExecutor(len(self.members)) as pool:  # they boot side by side
            done = [pool.submit(m.start, envs[n], timeout) for n, m in self.members.items()]
        for future in done:
            future.result()  # the first failure, once all have finished starting

    def prestart(self, env: OrchestratorEnv) -> None:
        raise AdapterError("a choreography starts no spares (its stream is made anew first)")

    def stop(self) -> None:
        for member in self.members.values():
            member.stop()

    def crash(self) -> None:
        for member in self.members.values():
            if member.process is not None:
                member.crash()

    def restart(self, timeout: float = 20.0) -> None:
        self.view.restart(timeout)

    def pause(self) -> None:
        self.view.pause()

    def resume(self) -> None:
        self.view.resume()

    def healthy(self) -> bool:
        return self.view.healthy()

    # -- the contract ----------------------------------------------------------------
    def submit(self, order: dict[str, Any]) -> SubmitResult:
        """Publish ``order.placed``; the order id as message id makes a retry store nothing
        new (200 then, as a repeated ``POST /orders``), and another body under a placed
        id is refused with 409 (§2), judged by the body the broker holds."""
        order_id = str(order.get("order_id"))
        headers = {events.MSG_ID_HEADER: events.msg_id(order_id, events.PLACED),
                   events.CORRELATION_HEADER: order_id}  # fmt: skip
        try:
            done = self.link.publish(events.subject(events.PLACED),
                                     {"order_id": order_id, "order": order}, headers)  # fmt: skip
            first = self.link.body_at(events.STREAM, done.seq) if done.duplicate else None
        except BrokerError as exc:
            return SubmitResult(None, error=str(exc))
        if first is not None and first.get("order") != order:
            return SubmitResult(409, {"type": "order-exists", "status": 409, "title": "Conflict",
                                      "detail": f"{order_id} was placed with another body"})
        return SubmitResult(200 if done.duplicate else 202,
                            {"order_id": order_id, "status": "pending", "seq": done.seq})

    def status(self, order_id: str) -> dict[str, Any] | None:
        return self.view.status(order_id)

    def review(self, order_id: str, decision: str) -> ReviewResult:
        """``POST /orders/{id}/review`` to the order view, when it declares ``review``."""
        if "review" not in self.capabilities:
            raise AdapterError(f"the order view {self.spec.view} declares no review capability")
        return self.view.review(order_id, decision)

    def advance_clock(self, seconds: float) -> None:
        raise AdapterError("a choreography has no clock to advance")
