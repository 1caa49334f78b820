"""The run's history: the one place workload, nemesis and checker meet (as in Jepsen).

The workload never tells the checker what it *meant* to do and the nemesis never tells it
what it *thinks* it broke; both only append timestamped events here, and the checker reads
them back next to the fakes' ledgers and journals. Because everything is plain data it
round-trips through JSON unchanged, so a replay file or a report carries the exact history
the verdict was reached on.

Usage by the runtime::

    h = History()
    op = h.invoke("submit", "ord-0001", order=order_json)
    op.ok(status="pending")             # or op.fail(error=...) / op.unknown(error=...)
    f = h.fault_applied({"type": "timeout", ...}, "payment")
    f.healed()                          # or h.fault_healed(f.fault_id)
    h.attach_journals({"payment": entries, ...})
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fracas.fakes.contract import http_fault_actions

JSON = dict[str, Any]
Completion = Literal["ok", "fail", "unknown"]
EventType = Literal["invoke", "ok", "fail", "unknown", "fault_applied", "fault_healed", "note"]

#: Operations the bundled workload performs; any other name is accepted too.
SUBMIT, STATUS, REVIEW = "submit", "status", "review"
#: Inputs a client fault sent (harness/faults/client.py): each records its fault
#: (``kind``, ``fault`` id, schedule ``index``), the answers the contract allows
#: (``expect``), whether it races something (``race``), and the answer it got.
CLIENT_SUBMIT, CLIENT_REVIEW = "client_submit", "client_review"
CLIENT_OPS = frozenset({CLIENT_SUBMIT, CLIENT_REVIEW})
TERMINAL_STATUSES = frozenset({"completed", "failed", "needs_attention"})

_EVENT_TYPES: frozenset[str] = frozenset(
    {"invoke", "ok", "fail", "unknown", "fault_applied", "fault_healed", "note"}
)


@dataclass(frozen=True)
class Event:
    """One line of history. ``op_id`` pairs an invocation with its completion and a fault's
    application with its healing; ``data`` holds whatever the caller passed (JSON-able)."""

    index: int
    t: float
    type: EventType
    op: str
    op_id: int
    order_id: str | None = None
    process: str | None = None
    data: JSON = field(default_factory=dict)

    def to_json(self) -> JSON:
        return {
            "index": self.index,
            "t": self.t,
            "type": self.type,
            "op": self.op,
            "op_id": self.op_id,
            "order_id": self.order_id,
            "process": self.process,
            "data": self.data,
        }

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> Event:
        kind = str(raw["type"])
        if kind not in _EVENT_TYPES:
            raise ValueError(f"unknown history event type {kind!r}")
        return Event(
            index=int(raw["index"]),
            t=float(raw["t"]),
            type=kind,  # type: ignore[arg-type]
            op=str(raw["op"]),
            op_id=int(raw["op_id"]),
            order_id=raw.get("order_id"),
            process=raw.get("process"),
            data=dict(raw.get("data") or {}),
        )


class HistoryError(RuntimeError):
    """Misuse of the history API (completing an operation twice, healing an unknown fault)."""


class OpHandle:
    """An invoked operation waiting for its outcome. Completing it twice is a bug in the
    caller, so it raises rather than silently writing two outcomes for one request."""

    def __init__(self, history: History, event: Event) -> None:
        self._history = history
        self.invoke_event = event
        self.completion: Event | None = None

    @property
    def op_id(self) -> int:
        return self.invoke_event.op_id

    def ok(self, **data: Any) -> Event:
        return self._complete("ok", data)

    def fail(self, **data: Any) -> Event:
        """A definite failure: the service answered and nothing happened because of it."""
        return self._complete("fail", data)

    def unknown(self, **data: Any) -> Event:
        """An indefinite outcome (timeout, dropped connection): it may or may not have happened."""
        return self._complete("unknown", data)

    def _complete(self, kind: Completion, data: JSON) -> Event:
        if self.completion is not None:
            raise HistoryError(f"operation {self.op_id} already completed ({self.completion.type})")
        ev = self._history._append(
            kind,
            self.invoke_event.op,
            self.op_id,
            self.invoke_event.order_id,
            self.invoke_event.process,
            data,
        )
        self.completion = ev
        return ev


class FaultHandle:
    """An applied fault; ``healed()`` records its removal."""

    def __init__(self, history: History, event: Event) -> None:
        self._history = history
        self.event = event

    @property
    def fault_id(self) -> int:
        return self.event.op_id

    def healed(self, **data: Any) -> Event:
        return self._history.fault_healed(self.fault_id, **data)


@dataclass(frozen=True)
class Op:
    """An invocation paired with its completion (``None`` while still in flight)."""

    invoke: Event
    completion: Event | None

    @property
    def op(self) -> str:
        return self.invoke.op

    @property
    def order_id(self) -> str | None:
        return self.invoke.order_id

    @property
    def outcome(self) -> str:
        return self.completion.type if self.completion else "pending"

    @property
    def t_end(self) -> float | None:
        return self.completion.t if self.completion else None


@dataclass(frozen=True)
class FaultWindow:
    """A fault from application to healing (``healed_t`` None: never healed in this run)."""

    fault_id: int
    target: str
    fault: JSON
    applied_t: float
    healed_t: float | None

    def active_at(self, t: float) -> bool:
        return self.applied_t <= t and (self.healed_t is None or t <= self.healed_t)

    def overlaps(self, start: float, end: float) -> bool:
        return self.applied_t <= end and (self.healed_t is None or self.healed_t >= start)

    @property
    def label(self) -> str:
        return describe_fault(self.fault)

    @property
    def is_http_rule(self) -> bool:
        """A fake's HTTP fault rule: it records in the journal each request it hits, so
        "active at that time" would overstate it (it only matches some requests)."""
        return is_http_rule(self.fault)


_PROCESS_KINDS = frozenset({"kill", "pause", "restart"})


def _kv(d: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(d.items()) if k not in skip and v is not None)


def is_http_rule(fault: Mapping[str, Any]) -> bool:
    if "action" in fault and "match" in fault:
        return True
    params = fault.get("params") or {}
    return fault.get("kind") in http_fault_actions() and ("path" in params or "phase" in params)


def is_client_input(fault: Mapping[str, Any]) -> bool:
    """A client fault (the orchestrator's inputs, aimed by order), by its JSON alone: the
    checkers' layer cannot ask the fault catalog for a family. A message fault names the
    saga event it acts on; a hybrid's crash at its orchestrator's end-event publish is
    aimed at an order on the orchestrator too, and was read as an input (its report said
    "the client input message_publish_crash", and the input checker took it for no cause
    of the order's own)."""
    params = fault.get("params") or {}
    return fault.get("target") == "orchestrator" and "order_id" in params and "event" not in params


def describe_fault(fault: Mapping[str, Any]) -> str:
    """A short human name for a fault, whichever JSON shape it came in: the fault catalog's
    ``{"kind", "target", "params"}``, a raw toxiproxy toxic, or a fake's §4 fault rule."""
    if "params" in fault and "kind" in fault:  # fracas.harness.faults catalog
        kind, params = str(fault["kind"]), dict(fault.get("params") or {})
        if kind in http_fault_actions() and ("path" in params or "phase" in params):
            where = " ".join(str(params[k]) for k in ("method", "path") if params.get(k))
            phase = str(params.get("phase") or "").replace("_", " ")
            extra = _kv(
                params,
                frozenset({"method", "path", "phase", "times", "nth", "order_id", "probability"}),
            )
            label = f"a {kind} fault on {where or 'requests'}"
            label += f" {phase}" if phase else ""
            return label + (f" ({extra})" if extra else "")
        if kind in _PROCESS_KINDS:
            extra = _kv(params)
            return f"a {kind}" + (f" ({extra})" if extra else "")
        if is_client_input(fault):
            # A client fault: inputs the harness sends (a race says so in its kind and
            # in each input's story, harness/checkers/witness.py).
            extra = _kv(params, frozenset({"order_id"}))
            return f"the client input {kind} on {params['order_id']}" + (
                f" ({extra})" if extra else "")
        extra = _kv(params)
        return f"a {kind} toxic" + (f" ({extra})" if extra else "")
    if "type" in fault:  # a toxiproxy toxic
        attrs = fault.get("attributes") or {}
        detail = _kv(attrs)
        stream = fault.get("stream")
        extra = f" ({detail})" if detail else ""
        where = f" {stream}" if stream else ""
        return f"a {fault['type']}{where} toxic{extra}"
    if "action" in fault:  # an HTTP fault rule (§4)
        action = fault.get("action") or {}
        kind = action.get("kind", "?")
        phase = fault.get("phase", "")
        rid = fault.get("id") or fault.get("rule_id") or "?"
        return f"fault rule {rid} ({kind} {phase})".replace(" )", ")")
    if "kind" in fault:  # process-level faults: kill, pause, restart
        return f"a {fault['kind']}"
    return "a fault " + _kv(fault)


class History:
    """Append-only, thread-safe event log with JSON round trip."""

    def __init__(self, t0: float | None = None, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.t0: float = clock() if t0 is None else t0
        self.events: list[Event] = []
        self.journals: dict[str, list[JSON]] = {}
        #: A choreography's messages as the broker moved them (published, delivered,
        #: redelivered, acked...: harness/broker/tap.py), each with its ``order_id``.
        self.messages: list[JSON] = []
        self.meta: JSON = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._open_faults: dict[int, Event] = {}

    # -- recording -----------------------------------------------------------------------

    def _append(
        self,
        kind: EventType,
        op: str,
        op_id: int,
        order_id: str | None,
        process: str | None,
        data: Mapping[str, Any],
        t: float | None = None,
    ) -> Event:
        with self._lock:
            ev = Event(
                index=len(self.events),
                t=self._clock() if t is None else t,
                type=kind,
                op=op,
                op_id=op_id,
                order_id=order_id,
                process=process,
                data=dict(data),
            )
            self.events.append(ev)
            return ev

    def invoke(
        self, op: str, order_id: str | None = None, *, process: str | None = None, **data: Any
    ) -> OpHandle:
        """Record that an operation is about to be attempted; complete the handle afterwards."""
        ev = self._append("invoke", op, next(self._ids), order_id, process, data)
        return OpHandle(self, ev)

    def fault_applied(self, fault: Mapping[str, Any], target: str, **data: Any) -> FaultHandle:
        """``fault`` is the toxic / fault-rule JSON as sent; ``target`` the service it hits."""
        payload = {"fault": dict(fault), "target": target, **data}
        ev = self._append("fault_applied", "fault", next(self._ids), None, None, payload)
        with self._lock:
            self._open_faults[ev.op_id] = ev
        return FaultHandle(self, ev)

    def fault_healed(self, fault_id: int, **data: Any) -> Event:
        with self._lock:
            applied = self._open_faults.pop(fault_id, None)
        if applied is None:
            raise HistoryError(f"fault {fault_id} is not active")
        payload = {"fault": applied.data["fault"], "target": applied.data["target"], **data}
        return self._append("fault_healed", "fault", fault_id, None, None, payload)

    def heal_all(self) -> list[Event]:
        """Heal every fault still active (the end of the nemesis phase)."""
        with self._lock:
            ids = list(self._open_faults)
        return [self.fault_healed(i) for i in ids]

    def note(self, what: str, order_id: str | None = None, **data: Any) -> Event:
        """Free-form marker (phase changes, crashes of the orchestrator, ...)."""
        return self._append("note", what, next(self._ids), order_id, None, data)

    def attach_journals(self, journals: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
        """Store the fakes' journals (``{service: entries}``), appending to earlier reads."""
        with self._lock:
            for service, entries in journals.items():
                self.journals.setdefault(service, []).extend(dict(e) for e in entries)

    def attach_messages(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Store the broker's messages of this run, beside the HTTP calls."""
        with self._lock:
            self.messages.extend(dict(e) for e in entries)

    # -- reading -------------------------------------------------------------------------

    def rel(self, t: float) -> float:
        """Seconds since the run started: how every human-facing time is shown."""
        return t - self.t0

    def ops(self) -> list[Op]:
        completions: dict[int, Event] = {}
        invokes: list[Event] = []
        for ev in self.events:
            if ev.type == "invoke":
                invokes.append(ev)
            elif ev.type in ("ok", "fail", "unknown"):
                completions[ev.op_id] = ev
        return [Op(inv, completions.get(inv.op_id)) for inv in invokes]

    def faults(self) -> list[FaultWindow]:
        healed: dict[int, float] = {}
        applied: list[Event] = []
        for ev in self.events:
            if ev.type == "fault_applied":
                applied.append(ev)
            elif ev.type == "fault_healed":
                healed[ev.op_id] = ev.t
        return [
            FaultWindow(
                ev.op_id,
                str(ev.data.get("target")),
                dict(ev.data.get("fault") or {}),
                ev.t,
                healed.get(ev.op_id),
            )
            for ev in applied
        ]

    def races(self) -> list[str]:
        """The client inputs sent that race something the harness cannot order (the
        review timer), one line each: ``"review_race on ord-0001 (racing the review
        timeout)"``. A run that holds one may take the other branch when run again, so
        its reports and its replay say so instead of calling the verdict flaky."""
        out: dict[tuple[object, object], str] = {}  # one line per fault and order
        for ev in self.events:
            if ev.type == "invoke" and ev.op in CLIENT_OPS and ev.data.get("race"):
                note = ev.data.get("note")
                out.setdefault((ev.data.get("fault") or ev.op_id, ev.order_id),
                               f"{ev.data.get('kind')} on {ev.order_id}"
                               + (f" ({note})" if note else ""))  # fmt: skip
        return list(out.values())

    def last_heal_t(self) -> float | None:
        ts = [ev.t for ev in self.events if ev.type == "fault_healed"]
        return max(ts) if ts else None

    def submit_times(self) -> dict[str, float]:
        """First submission attempt per order."""
        out: dict[str, float] = {}
        for ev in self.events:
            if ev.type == "invoke" and ev.op == SUBMIT and ev.order_id is not None:
                out.setdefault(ev.order_id, ev.t)
        return out

    def terminal_times(self) -> dict[str, float]:
        """When each order was first *seen* terminal: a status read answering a terminal
        status. It is an upper bound on when it became terminal, which is what a liveness
        check needs (the orchestrator is not trusted to timestamp itself)."""
        reads: dict[int, str] = {}
        out: dict[str, float] = {}
        for ev in self.events:  # one pass: completions always follow their invocation
            if ev.type == "invoke":
                if ev.op == STATUS and ev.order_id is not None:
                    reads[ev.op_id] = ev.order_id
            elif (
                ev.type == "ok" and ev.op_id in reads and ev.data.get("status") in TERMINAL_STATUSES
            ):
                oid = reads[ev.op_id]
                prev = out.get(oid)
                if prev is None or ev.t < prev:
                    out[oid] = ev.t
        return out

    def timeline(self, order_id: str) -> list[JSON]:
        """One order's story: its history events and every journal entry joined to it by
        order id, correlation id, or an idempotency key one of those entries carried (so a
        retry that lost its order id still shows up). ``{"t", "source", "item"}`` sorted by
        time; ``source`` is "history" or the service name. O(journal) per call: for one
        order at a time, not for whole-run analysis (the checkers index instead)."""
        items: list[JSON] = [
            {"t": ev.t, "source": "history", "item": ev.to_json()}
            for ev in self.events
            if ev.order_id == order_id
        ]
        direct: list[tuple[str, JSON]] = []
        keys: set[Any] = set()
        rest: list[tuple[str, JSON]] = []
        for service, entries in self.journals.items():
            for e in entries:
                if e.get("order_id") == order_id or e.get("correlation_id") == order_id:
                    direct.append((service, e))
                    if e.get("idempotency_key") is not None:
                        keys.add(e["idempotency_key"])
                elif e.get("idempotency_key") is not None:
                    rest.append((service, e))
        direct += [(s, e) for s, e in rest if e["idempotency_key"] in keys]
        direct += [("broker", m) for m in self.messages if m.get("order_id") == order_id]
        items += [{"t": float(e.get("t") or 0.0), "source": s, "item": dict(e)} for s, e in direct]
        items.sort(key=lambda x: x["t"])
        return items

    def rejected_orders(self) -> set[str]:
        """Orders whose every submission attempt definitely failed (the orchestrator said
        no): they were never accepted, so nothing may happen for them."""
        submits: dict[int, str] = {}
        attempts: dict[str, int] = {}
        fails: dict[str, int] = {}
        for ev in self.events:
            if ev.type == "invoke":
                if ev.op == SUBMIT and ev.order_id is not None:
                    submits[ev.op_id] = ev.order_id
                    attempts[ev.order_id] = attempts.get(ev.order_id, 0) + 1
            elif ev.type == "fail" and ev.op_id in submits:
                oid = submits[ev.op_id]
                fails[oid] = fails.get(oid, 0) + 1
        return {oid for oid, n in fails.items() if n == attempts[oid]}

    # -- JSON ----------------------------------------------------------------------------

    def to_json(self) -> JSON:
        return {
            "t0": self.t0,
            "meta": self.meta,
            "events": [ev.to_json() for ev in self.events],
            "journals": self.journals,
            **({"messages": self.messages} if self.messages else {}),
        }

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> History:
        h = History(t0=float(raw["t0"]))
        h.meta = dict(raw.get("meta") or {})
        h.events = [Event.from_json(e) for e in raw.get("events", [])]
        h.journals = {str(k): [dict(e) for e in v] for k, v in (raw.get("journals") or {}).items()}
        h.messages = [dict(m) for m in raw.get("messages") or []]
        max_id = max((ev.op_id for ev in h.events), default=0)
        h._ids = itertools.count(max_id + 1)
        healed = {ev.op_id for ev in h.events if ev.type == "fault_healed"}
        h._open_faults = {
            ev.op_id: ev for ev in h.events if ev.type == "fault_applied" and ev.op_id not in healed
        }
        return h
