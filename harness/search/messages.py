"""What the property search draws of the message family, for a choreography.

The plan's ``message`` and ``death`` cells are a step x phase like any other
(search/plan.py): the events of an order's intent (``events.PATHS``) say which event
reports the step (``events.STEP_OF``) and which one set it off (``events.cause``: the
last one before it on the path that it answers; payment and inventory both answer
``customer.checked``), and the choreography's table says who consumes that one. In phase
``before_commit`` a message fault is on the delivery that sets the step off (late,
twice, to a participant paused or killed as it acks); in ``after_commit`` on what the
step publishes (its acknowledgement lost, or overtaken by the next event). A death
(``after_commit`` only) loses what the step publishes to its doer's crash after the ack
or at the publish (``BY_GROUP``). Each entry is the catalog's JSON, ``at`` 0, healed
``hold(kind)`` after it acted.

``message_faults`` draws free entries over any order and event. With a real Toxiproxy as
the backend (``reads_nats`` false) neither draws anything: the schedule would refuse
every one of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from fracas.fakes.contract import compensations
from fracas.fakes.events import BY_NAME, EVENTS, PATHS, PLACED, STEP_OF, cause
from fracas.harness.adapters.choreo_spec import ChoreographySpec
from fracas.harness.broker.settings import DEFAULT_ACK_WAIT
from fracas.harness.faults.kinds.message_publish_crash import ORCHESTRATOR
from fracas.harness.run.schedule import ScheduledFault

#: Seconds a drawn message fault stays in place once it acted (a message fault lies in
#: wait for its message: run/nemesis.py): several ack waits, so a redelivery it causes
#: happens while it holds. Counted from ``at`` 0 (10 s), the fault healed before its
#: message came when a pause earlier in the example delayed it, and a find of the
#: choreography's no-outbox replayed 1 time in 5.
HOLD_SECONDS = 6.0
#: Seconds a participant killed by a crash fault stays dead before heal starts it again,
#: as a supervisor would: the fault is the instant of the kill, and once it acted its
#: toxic has nothing left to do. Held ``HOLD_SECONDS``, the dead participant stalled
#: every order through it for 6 s, in most examples of a choreography (three of the
#: eight message kinds a step draws kill); a participant down for a while is the
#: process family's kill.
RESTART_SECONDS = 1.0
CRASHES = ("message_crash", "message_publish_crash")
#: The holds a late delivery draws, in ack waits: within one, about one, past it; and a
#: pause, past one and well past it. Fixed at 0.5, 1.5 and 3 s and at 3 and 5 s (what
#: they are at the bundled examples' 2 s), a choreography with the server's default of
#: 30 s would never have been paused past its ack wait, nor an event held past it.
LATE_WAITS = (0.25, 0.75, 1.5)
PAUSE_WAITS = (1.5, 2.5)


def late_ms(ack_wait: float) -> tuple[int, ...]:
    """The holds, in ms, a late delivery draws under this ack wait (seconds)."""
    return tuple(round(f * ack_wait * 1000) for f in LATE_WAITS)


def pause_seconds(ack_wait: float) -> tuple[float, ...]:
    """The pauses, in seconds, a participant's pause draws under this ack wait."""
    return tuple(round(f * ack_wait, 3) for f in PAUSE_WAITS)


ON_BROKER = ("message_duplicate", "message_late", "message_reorder", "message_lost_puback")
ON_PARTICIPANT = ("message_crash", "message_pause")


def hold(kind: str, ack_wait: float = DEFAULT_ACK_WAIT) -> float:
    """How long after it acted a drawn message fault of ``kind`` is healed: at least
    three ack waits for what lies in wait (``HOLD_SECONDS`` at 2 s)."""
    return RESTART_SECONDS if kind in CRASHES else max(HOLD_SECONDS, 3 * ack_wait)


def consumed(consumes: Sequence[str]) -> list[str]:
    """The events a participant's ``consumes`` list takes (``*``: every one)."""
    return [e.name for e in EVENTS] if "*" in consumes else [e for e in consumes if e in BY_NAME]


def message_faults(
    participants: Mapping[str, Sequence[str]],
    order_ids: Sequence[str],
    reads_nats: bool = True,
    max_size: int = 2,
    ack_wait: float = DEFAULT_ACK_WAIT,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Schedule entries of message faults: ``participants`` maps each participant's name
    to what it consumes (the choreography's table), ``order_ids`` the run's orders;
    delays and pauses are reckoned from its ``ack_wait`` (seconds)."""
    takes = {name: consumed(c) for name, c in participants.items() if consumed(c)}
    if not reads_nats or not takes or not order_ids:
        return st.just([])
    return st.lists(_one(takes, list(order_ids), ack_wait), max_size=max_size)


def _one(takes: Mapping[str, list[str]], order_ids: list[str],
         ack_wait: float) -> st.SearchStrategy[dict[str, Any]]:  # fmt: skip
    published = sorted(e.name for e in EVENTS if e.name != PLACED)

    @st.composite
    def entry(draw: st.DrawFn) -> dict[str, Any]:
        kind = draw(st.sampled_from((*ON_BROKER, *ON_PARTICIPANT)))
        oid = draw(st.sampled_from(order_ids))
        name = draw(st.sampled_from(sorted(takes)))
        event = draw(st.sampled_from(takes[name]))
        params: dict[str, Any] = {"event": event, "order_id": oid}
        target = "broker"
        if kind == "message_lost_puback":
            params = {"event": draw(st.sampled_from(published)), "order_id": oid}
        elif kind in ON_PARTICIPANT:
            target = f"participant:{name}"
            if kind == "message_crash":
                params["moment"] = draw(st.sampled_from(("before_ack", "after_ack")))
            else:
                params["seconds"] = draw(st.sampled_from(pause_seconds(ack_wait)))
        else:
            params["consumer"] = name
            if kind == "message_late":
                params["delay_ms"] = draw(st.sampled_from(late_ms(ack_wait)))
            elif kind == "message_reorder":
                later = [e for e in takes[name] if e != event]
                if not later:
                    kind, params = "message_duplicate", {**params}
                else:
                    params["then_event"] = draw(st.sampled_from(later))
        fault = {"kind": kind, "target": target, "params": params}
        return {"fault": fault, "at": 0, "for": hold(kind, ack_wait), "may_not_fire": True}

    return entry()


#: The kinds of each plan group of the message family, by phase of a step (see the
#: module docstring): ``message``, what the broker does to an event, or a participant
#: killed or paused as the event that sets the step off reaches it; ``death``, the
#: step's doer dying between its own commit and the event it must publish (killed after
#: its ack, or at the publish), the dual-write window at-least-once delivery leaves
#: open. The orchestrator's crash is a group of its own for the same reason (plan.py):
#: as two kinds of the four a message cell after the commit drew, a death at the publish
#: came up about three times in a plan of some fourteen message cells, and the plan's
#: one at a compensation (a refund or a release whose event is lost) about once.
BY_GROUP = {
    "message": {
        "before_commit": ("message_duplicate", "message_late", "message_pause",
                          "message_crash"),
        "after_commit": ("message_lost_puback", "message_reorder"),
    },
    "death": {"before_commit": (), "after_commit": ("message_crash", "message_publish_crash")},
}
#: What a hybrid's broker cannot take: one end event per order, so no later event of
#: the order overtakes it.
HYBRID_LACKS = frozenset({"message_reorder"})


@dataclass(frozen=True)
class Choreography:
    """What message faults on one choreography are aimed within: the events each
    participant consumes (``*`` spelled out), and which one is the order view."""

    takes: Mapping[str, tuple[str, ...]]
    view: str
    #: A hybrid: the orchestrator publishes each order's end event (contract §8), and
    #: the participants act on it; no other event is on the broker (``HYBRID_STEP``).
    hybrid: bool = False
    #: Seconds before the broker gives an unacked event again: what late deliveries and
    #: pauses are reckoned from (``late_ms``, ``pause_seconds``).
    ack_wait: float = DEFAULT_ACK_WAIT

    @staticmethod
    def of(participants: Mapping[str, Sequence[str]], view: str, hybrid: bool = False,
           ack_wait: float = DEFAULT_ACK_WAIT) -> Choreography:  # fmt: skip
        return Choreography({n: tuple(consumed(c)) for n, c in participants.items()}, view,
                            hybrid, ack_wait)  # fmt: skip

    def doers(self, event: str) -> list[str]:
        """The participants that act on ``event`` (the view only reports it)."""
        return sorted(n for n, t in self.takes.items() if event in t and n != self.view)

    def watchers(self, event: str, then: str) -> list[str]:
        """The participants that take both events (the view takes every one)."""
        return sorted(n for n, t in self.takes.items() if event in t and then in t)


@dataclass(frozen=True)
class _Aim:
    trigger: str  # the event that sets the step off
    event: str  # the event that reports it
    then: str | None  # the event after it, if any


#: The step a hybrid's end event sets off: the participants' notification (its only
#: event is the orchestrator's, so the event the step reports is that one too, and
#: nothing follows it on the broker).
HYBRID_STEP = "notify"


def _aims(intent: str, step: str, hybrid: bool = False) -> list[_Aim]:
    path = PATHS.get(intent, ())
    if hybrid:
        return [_Aim(path[-1], path[-1], None)] if path and step == HYBRID_STEP else []
    return [_Aim(cause(path, e) or path[i - 1], e, path[i + 1] if i + 1 < len(path) else None)
            for i, e in enumerate(path) if i > 0 and STEP_OF.get(e) == step]  # fmt: skip


def message_aim(topology: Any) -> Choreography | None:
    """The choreography a run's topology tests, if its broker's traffic goes through a
    fault proxy that reads it (the embedded one), a hybrid's too; None for an
    orchestrator alone, or with a real Toxiproxy, where a message fault would be
    refused."""
    spec = getattr(topology.config.orchestrator, "choreography", None)
    if spec is None or topology.broker is None or not topology.backend.reads_nats:
        return None
    table = ChoreographySpec.from_json(spec)
    takes = {p.name: p.consumes for p in table.participants}
    if table.view is None:  # a hybrid: its events are the orchestrator's end events
        return Choreography.of(takes, "", hybrid=True, ack_wait=table.ack_wait)
    return Choreography.of(takes, table.view, ack_wait=table.ack_wait)


def _doers(choreo: Choreography, aim: _Aim) -> list[str]:
    """The participants that carry a step out: those that act on the event setting it
    off, narrowed to the contract's publisher of the event that reports it
    (``EventSpec.by``) when the table has a participant of that name. Payment and
    inventory both act on ``customer.checked``, and only inventory reserves: a crash
    of payment aimed at the reservation lands on a capture that runs beside it or not,
    as the two branches happen to interleave (a find that replayed 2 times in 5)."""
    doers = choreo.doers(aim.trigger)
    by = BY_NAME[aim.event].by
    return [by] if by in doers else doers


def step_doers(choreo: Choreography, intent: str, step: str) -> list[str]:
    """The participants that carry ``step`` out for an order of ``intent``: those that
    act on the event setting it off. None for a step a hybrid's orchestrator runs."""
    return sorted({d for a in _aims(intent, step, choreo.hybrid) for d in _doers(choreo, a)})


def _aims_of(intent: str, step: str, hybrid: bool, event: str | None) -> list[_Aim]:
    """``_aims``, only those reporting ``event`` when one is given."""
    return [a for a in _aims(intent, step, hybrid) if event is None or a.event == event]


def has_step(intent: str, step: str, hybrid: bool = False, event: str | None = None) -> bool:
    """Whether an order of ``intent`` has an event that sets ``step`` off or reports it
    (in a ``hybrid``, only its end event, which sets the notification off); with
    ``event``, whether that event reports the step on the order's path."""
    return bool(_aims_of(intent, step, hybrid, event))


def reported(step: str, intents: Sequence[str], hybrid: bool = False) -> list[str]:
    """The events that report ``step`` on the paths of ``intents``: a death cell each
    (plan.py), sorted."""
    return sorted({a.event for i in intents for a in _aims(i, step, hybrid)})


def after(path: Sequence[str], event: str) -> set[str]:
    """The events on ``path`` that ``event`` follows from: what it answers (both halves
    of a join), and what those follow from."""
    spec = BY_NAME[event]
    before = path[: list(path).index(event)]
    if spec.join:
        direct = [e for e in before if e in spec.answers]
    else:
        one = cause(tuple(path), event)
        direct = [one] if one is not None else []
    return {a for e in direct for a in (e, *after(path, e))}


def overtaken(intents: Sequence[str], hybrid: bool = False) -> list[tuple[str, str]]:
    """``(intent, step)`` where an order of ``intent`` undoes a step on a branch the
    step's own event does not lead to: the undo can come before the step was made.
    Payment and inventory both act on ``customer.checked``; a declined card sets off the
    release of a reservation that inventory, its own delivery late, may not have made
    yet (an out-of-stock order, the refund of a capture). A choreography must handle
    both orders of a create and its undo, as it handles both of its branches' events;
    an undo that follows the step's own report (an undeliverable address, after the
    join) has one order only. None in a ``hybrid``: its orchestrator runs the steps."""
    if hybrid:
        return []
    undoes = compensations()
    out: list[tuple[str, str]] = []
    for intent in intents:
        path = PATHS.get(intent, ())
        for undo in path:
            step = undoes.get(STEP_OF.get(undo, ""))
            if step is None:
                continue  # not an undo
            made = next((e for e in path if STEP_OF.get(e) == step
                         and BY_NAME[e].role == "forward"), None)  # fmt: skip
            if made is not None and made not in after(path, undo):
                out.append((intent, step))
    return out


def options(choreo: Choreography, intent: str, step: str, phase: str,
            kinds: Sequence[str], group: str = "message",
            event: str | None = None) -> list[str]:  # fmt: skip
    """The kinds of ``group`` (``BY_GROUP``) an order of ``intent`` can take at this step
    and phase (on ``event``, the one reporting the step, when given)."""
    aims = _aims_of(intent, step, choreo.hybrid, event)
    return [k for k in BY_GROUP[group][phase]
            if k in kinds and any(_takes(choreo, a, k) for a in aims)]  # fmt: skip


def _takes(choreo: Choreography, aim: _Aim, kind: str) -> bool:
    """Whether ``kind`` has something to act on at ``aim``: a lost PubAck any published
    event, a reorder a later event someone takes with it, the rest a participant that
    acts on the event that sets the step off."""
    if kind == "message_lost_puback" or (kind == "message_publish_crash" and choreo.hybrid):
        return True  # (a hybrid's end events are the orchestrator's)
    if kind == "message_reorder":
        return aim.then is not None and bool(choreo.watchers(aim.event, aim.then))
    return bool(_doers(choreo, aim))


@st.composite
def aimed(draw: st.DrawFn, choreo: Choreography, order_id: str, intent: str, step: str,
          phase: str, kinds: Sequence[str], event: str | None = None) -> ScheduledFault:  # fmt: skip
    """One message fault on this order's step, in phase, of one of ``kinds`` (which
    ``options`` gave), where ``event`` reports the step when given."""
    kind = draw(st.sampled_from(list(kinds)))
    aims = _aims_of(intent, step, choreo.hybrid, event)
    aim = draw(st.sampled_from([a for a in aims if _takes(choreo, a, kind)]))
    params: dict[str, Any] = {"order_id": order_id}
    target = "broker"
    if kind == "message_lost_puback":
        params["event"] = aim.event
    elif kind == "message_publish_crash":
        # the step's doer publishes what reports the step; a hybrid's orchestrator its end
        doers = [] if choreo.hybrid else _doers(choreo, aim)
        params["event"] = aim.event
        target = f"participant:{draw(st.sampled_from(doers))}" if doers else ORCHESTRATOR
    elif kind == "message_reorder":
        assert aim.then is not None
        params.update(event=aim.event, then_event=aim.then,
                      consumer=draw(st.sampled_from(choreo.watchers(aim.event, aim.then))))
    else:
        doer = draw(st.sampled_from(_doers(choreo, aim)))
        params["event"] = aim.trigger
        if kind in ON_PARTICIPANT:
            target = f"participant:{doer}"
            if kind == "message_crash":
                params["moment"] = "before_ack" if phase == "before_commit" else "after_ack"
            else:
                params["seconds"] = draw(st.sampled_from(pause_seconds(choreo.ack_wait)))
        else:
            params["consumer"] = doer
            if kind == "message_late":
                params["delay_ms"] = draw(st.sampled_from(late_ms(choreo.ack_wait)))
    fault = {"kind": kind, "target": target, "params": params}
    return ScheduledFault(fault, at=0.0, duration=hold(kind, choreo.ack_wait),
                          may_not_fire=True)  # fmt: skip
