"""What the property search would draw of the message family, for a choreography.

Kept apart from ``strategies.py`` and ``plan.py`` so the search can take it up with one
call: each draw is a schedule entry (the catalog's JSON, ``at`` 0, healed after
``HOLD_SECONDS``) aimed at one order and at an event its target really sees: a delivery
to a participant that consumes the event, or a publish by a participant (never
``order.placed``: the harness places orders on its own link, past the fault proxy).
With a real Toxiproxy as the backend (``reads_nats`` false) it draws nothing, as the
schedule would refuse every one of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from fracas.fakes.events import BY_NAME, EVENTS, PLACED

#: Seconds a drawn message fault stays in place: several ack waits, so a redelivery it
#: causes happens while it holds.
HOLD_SECONDS = 10.0
ON_BROKER = ("message_duplicate", "message_late", "message_reorder", "message_lost_puback")
ON_PARTICIPANT = ("message_crash", "message_pause")


def consumed(consumes: Sequence[str]) -> list[str]:
    """The events a participant's ``consumes`` list takes (``*``: every one)."""
    return [e.name for e in EVENTS] if "*" in consumes else [e for e in consumes if e in BY_NAME]


def message_faults(
    participants: Mapping[str, Sequence[str]],
    order_ids: Sequence[str],
    reads_nats: bool = True,
    max_size: int = 2,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Schedule entries of message faults: ``participants`` maps each participant's name
    to what it consumes (the choreography's table), ``order_ids`` the run's orders."""
    takes = {name: consumed(c) for name, c in participants.items() if consumed(c)}
    if not reads_nats or not takes or not order_ids:
        return st.just([])
    return st.lists(_one(takes, list(order_ids)), max_size=max_size)


def _one(takes: Mapping[str, list[str]],
         order_ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:  # fmt: skip
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
                params["seconds"] = draw(st.sampled_from((3.0, 5.0)))
        else:
            params["consumer"] = name
            if kind == "message_late":
                params["delay_ms"] = draw(st.sampled_from((500, 1500, 3000)))
            elif kind == "message_reorder":
                later = [e for e in takes[name] if e != event]
                if not later:
                    kind, params = "message_duplicate", {**params}
                else:
                    params["then_event"] = draw(st.sampled_from(later))
        fault = {"kind": kind, "target": target, "params": params}
        return {"fault": fault, "at": 0, "for": HOLD_SECONDS, "may_not_fire": True}

    return entry()
