"""Client inputs for the search: which client fault a cell of the ``client`` group is.

A cell is a step x group x phase like any other (search/plan.py). For the client group:

- at the ``customer`` step, the step before an order may await review, the input is a
  review decision: in phase ``before_commit`` one sent while the order awaits review
  (the same decision twice at once, one racing the review timeout), in
  ``after_commit`` one sent after the order's decision took (the same again, the
  opposite while the saga runs or once it ended, one after the timeout fired). An
  order that never asks for review gets a decision it must refuse, or, after it
  finished, its ``POST /orders`` again;
- at any later step, ``POST /orders`` again while the order is at that step: the same
  body or another under the same id, triggered by the step's request (before or after
  its commit), so it lands on the same step on every replay.

What an input needs is declared, never guessed: decisions need ``review``, a timeout
needs ``advance_clock``. The decision sent is the one the order's plan makes (an order
meant to time out is sent an approve, and only after its timeout or racing it: the input
it must refuse or race, never one that stops the timeout from firing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from fracas.fakes import contract
from fracas.harness.faults import Fault, fault_kinds
from fracas.harness.run.schedule import RequestMatch, ScheduledFault
from fracas.harness.run.workload import OrderPlan
from fracas.harness.search.family import family

#: Kinds by (where they are aimed, phase); see the module docstring.
AT_REVIEW = {"before_commit": ("review_twice", "review_race"),
             "after_commit": ("review_twice", "review_flip", "review_late")}  # fmt: skip
NEVER_ASKED = {"before_commit": ("review_unasked",), "after_commit": ("review_unasked", "resubmit")}
IN_FLIGHT = ("resubmit", "resubmit_other")
#: The decisions an order meant to time out may get: one after its timeout fired, one
#: racing it. Any other decision (the same twice, say) is taken while the order awaits
#: review, so no timeout fires and the order's plan is not what runs (a held-out defect
#: in how the timeout is handled went unfound on 1 seed in 5 that way).
LEAVE_TIMEOUT = ("review_race", "review_late")
#: The decisions sent after the order's first one took effect: the same again, the
#: opposite one. Each sends the order's own decision first (a copy the contract lets be
#: answered 200 or 409), so they compose on one order: a member of one brings the others
#: (``second_decisions``), as an HTTP member brings its family's other answers. One cell
#: each, a second decision the orchestrator takes (a reviewer who changed their mind)
#: was one cell of some 80, and its pack came at example 12 of 20 (median of 5 seeds).
SECOND = ("review_twice", "review_flip")
#: What each kind needs the orchestrator to declare.
NEEDS = {
    "review_twice": {"review"},
    "review_flip": {"review"},
    "review_unasked": {"review"},
    "review_late": {"review", "advance_clock"},
    "review_race": {"review", "advance_clock"},
}


def review_kinds(phase: str) -> set[str]:
    """The kinds sent to an order that awaits review, in this phase."""
    return set(AT_REVIEW[phase])


def unasked_kinds(phase: str) -> set[str]:
    """The kinds sent at the customer step to an order that never asks for review."""
    return set(NEVER_ASKED[phase])


def group_kinds(step: str, phase: str) -> tuple[str, ...]:
    """The kinds of the ``client`` group at this step and phase, in a fixed order (what
    draws sample from): an input to an order that never asks for review at the
    customer step, ``POST /orders`` again after it."""
    return NEVER_ASKED[phase] if step == "customer" else IN_FLIGHT


def asks_review(intent: str) -> bool:
    """An order of this intent awaits a review decision (the contract's ``needs``)."""
    return "review" in contract.intent(intent).needs


def options(plan: OrderPlan, step: str, phase: str, capabilities: frozenset[str],
            kinds: Sequence[str] | None) -> list[str]:  # fmt: skip
    """The client kinds this order's step and phase can be sent, here."""
    names: Sequence[str] = group_kinds(step, phase)
    if step == "customer" and plan.review is not None:
        names = AT_REVIEW[phase]
        if plan.review == "timeout":  # only what leaves its timeout to fire
            names = [k for k in names if k in LEAVE_TIMEOUT]
    registry = fault_kinds()
    return [k for k in names if k in registry and registry[k].family == "client"
            and NEEDS.get(k, set()) <= capabilities and (kinds is None or k in kinds)]  # fmt: skip


def client_fault(draw: st.DrawFn, plan: OrderPlan, step: str, phase: str,
                 when: RequestMatch, kinds: Sequence[str]) -> ScheduledFault:  # fmt: skip
    """One client fault on this order: at the step's request, or from the start for a
    review decision (the kind waits for the order to await review itself)."""
    kind = draw(st.sampled_from(list(kinds)))
    params: dict[str, object] = {"order_id": plan.order_id}
    if kind.startswith("review_") and kind != "review_unasked":
        params["decision"] = "reject" if plan.review == "reject" else "approve"
    if kind == "review_twice":
        params["later"] = phase == "after_commit"
    elif kind == "review_flip":  # shrinks toward the variant that does not race the saga
        params["after_done"] = draw(st.sampled_from((True, False)))
    elif kind == "review_unasked":
        params["decision"] = draw(st.sampled_from(("reject", "approve")))
    elif kind == "resubmit":
        params["after_done"] = step == "customer"
    fault = Fault.from_json({"kind": kind, "target": "orchestrator", "params": params}).to_json()
    if step == "customer":
        return ScheduledFault(fault, at=0.0, may_not_fire=True)
    return ScheduledFault(fault, when=when, may_not_fire=True)


def is_second(fault: Mapping[str, Any]) -> bool:
    """A decision sent after the first took effect (the ``SECOND`` family)."""
    params = fault.get("params") or {}
    return fault.get("kind") == "review_flip" or (
        fault.get("kind") == "review_twice" and bool(params.get("later")))  # fmt: skip


@st.composite
def second_decisions(
    draw: st.DrawFn, entry: ScheduledFault, kinds: Sequence[str] | None
) -> tuple[list[ScheduledFault], bool]:
    """The ``SECOND`` family's other kinds on ``entry``'s order, each once, in a drawn
    order, each left out by its presence draw (a failure sheds those it
    does not need). Also says whether none was."""
    if not is_second(entry.fault):
        return [], True
    params = entry.fault["params"]
    registry = fault_kinds()
    rest = [k for k in SECOND if k != entry.fault["kind"] and k in registry
            and (kinds is None or k in kinds)]  # fmt: skip

    def build(draw: st.DrawFn, kind: str) -> ScheduledFault:
        more: dict[str, object] = {"order_id": params["order_id"], "decision": params["decision"]}
        if kind == "review_twice":
            more["later"] = True
        else:
            more["after_done"] = draw(st.sampled_from((True, False)))
        fault = Fault.from_json({"kind": kind, "target": "orchestrator", "params": more})
        return ScheduledFault(fault.to_json(), at=0.0, may_not_fire=True)

    return draw(family(rest, build))
