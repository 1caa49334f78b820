"""Input effects: a repeated, crossed, late or changed input to the orchestrator had an
effect it must not have (docs/contract.md §2, "Inputs that arrive twice, late or
changed").

The inputs are the client faults' (history ops ``client_review``, ``client_submit``)
and the workload's own decisions. What is judged is what the ledgers show, not what
the orchestrator answered: a 409 that still refunded is a violation, a 200 with no
second effect is not.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View, fmt_money, line_counts
from fracas.harness.checkers.violation import Violation
from fracas.harness.model.history import (
    CLIENT_OPS,
    CLIENT_REVIEW,
    CLIENT_SUBMIT,
    REVIEW,
    Op,
    is_client_input,
)

#: The answers by which a service refuses a step for a business reason: the order has
#: a cause to fail (declined, out of stock, undeliverable).
REFUSALS = {("payment", 402), ("inventory", 409), ("shipping", 422)}
EFFECT_PATHS = {"payment": "/payments", "inventory": "/reservations", "shipping": "/shipments"}


@dataclass(frozen=True)
class _Input:
    op: Op

    @property
    def t(self) -> float:
        return self.op.invoke.t

    @property
    def code(self) -> object:
        return (self.op.completion.data if self.op.completion else {}).get("status_code")

    def story(self, view: View) -> str:
        data = self.op.invoke.data
        what = (f"sent {data.get('decision')}" if self.op.op in (REVIEW, CLIENT_REVIEW)
                else "sent POST /orders")  # fmt: skip
        who = (f"the client input {data.get('kind')} ({data.get('fault')})"
               if self.op.op in CLIENT_OPS else "the workload")  # fmt: skip
        race = ", a race" if data.get("race") else ""
        note = f" {data['note']}" if data.get("note") else ""
        answer = self.code if self.code is not None else "no answer"
        return (f"{who} {what}{note} at {self.t - view.t0:.3f} s{race}, "
                f"answered {answer}")  # fmt: skip


def _inputs(view: View) -> dict[str, list[_Input]]:
    h = view.snapshot.history
    out: dict[str, list[_Input]] = {}
    if h is None:
        return out
    ops = [o for o in h.ops() if o.order_id is not None]
    sent = {o.order_id for o in ops if o.op in CLIENT_OPS}
    for o in ops:
        if o.order_id in sent and o.op in (*CLIENT_OPS, REVIEW):
            out.setdefault(str(o.order_id), []).append(_Input(o))
    return out


def _cause(view: View, oid: str) -> bool:
    """The order may fail for a reason of its own: its customer is unknown or blocked,
    a service refused a step, or a fault other than an input hit it."""
    customer = view.customer_of(oid)
    if customer is None or customer.get("status") == "blocked":
        return True
    for e in view.journal_by_order.get(oid, ()):
        svc, status = e.get("service"), e.get("status")
        if (svc, status) in REFUSALS and e.get("path") == EFFECT_PATHS.get(str(svc)):
            return True
    return any(not is_client_input(f.fault) for f in view.faults)


def _failed_in_review(view: View, oid: str, inputs: Sequence[_Input]) -> bool:
    """A high-risk order may fail in review, for a reason of its own: the first decision
    answered 2xx was a reject, or none took (it timed out). A decision whose answer was
    never seen may have been that reject."""
    if (view.customer_of(oid) or {}).get("risk") != "high":
        return False
    reviews = [i for i in inputs if i.op.op in (REVIEW, CLIENT_REVIEW)]
    if any(i.op.outcome in ("unknown", "pending") for i in reviews):
        return True
    taken = [i for i in reviews if i.op.outcome == "ok"]
    if not taken:
        return True
    return min(taken, key=lambda i: i.t).op.invoke.data.get("decision") == "reject"


def _violation(view: View, oid: str, message: str, inputs: Sequence[_Input]) -> Violation:
    story = "; ".join(i.story(view) for i in inputs)
    return Violation("input-effects", oid, f"{message} (inputs: {story})",
                     ledger_rows=view.ledger_rows(oid))  # fmt: skip


def _reviews(view: View, oid: str, inputs: list[_Input]) -> Iterator[Violation]:
    reviews = [i for i in inputs if i.op.op in (REVIEW, CLIENT_REVIEW)]
    if not reviews or any(i.op.outcome in ("unknown", "pending") for i in reviews):
        return  # an answer never seen may have taken: nothing to judge against
    taken = [i for i in reviews if i.op.outcome == "ok"]
    first = min(taken, key=lambda i: i.t) if taken else None
    decision = first.op.invoke.data.get("decision") if first else None
    high = (view.customer_of(oid) or {}).get("risk") == "high"
    captures = view.payments_by_order.get(oid, [])
    if high and decision in ("reject", None) and captures:
        why = "rejected in review" if decision else "timed out in review (no decision took)"
        yield _violation(view, oid, f"order {oid} was {why}, yet it was captured "
                         f"{fmt_money(captures[0].get('amount_cents'))}: a decision that "
                         "came after had an effect", reviews)  # fmt: skip
        return
    after = [i for i in reviews if i.op.op == CLIENT_REVIEW and i.op.invoke.data.get(
        "decision") == "reject" and i is not first and (first is None or i.t > first.t)]
    if after and view.status(oid) == "failed" and not _cause(view, oid) and (
            decision == "approve" or not high):  # fmt: skip
        yield _violation(view, oid, f"order {oid} was failed though no service refused a "
                         "step: a reject it had to refuse (409) undid it", reviews)  # fmt: skip


def _submits(view: View, oid: str, inputs: list[_Input]) -> Iterator[Violation]:
    order = view.orders.get(oid) or {}
    other = [i for i in inputs if i.op.op == CLIENT_SUBMIT
             and i.op.invoke.data.get("order") not in (None, order)]  # fmt: skip
    if not other:
        return
    problems: list[str] = []
    charge = view.expected_charge(oid)
    for p in view.payments_by_order.get(oid, []):
        if charge is not None and p.get("amount_cents") != charge:
            problems.append(f"{p.get('payment_id')} captured {fmt_money(p.get('amount_cents'))}, "
                            f"the first body's total is {fmt_money(charge)}")  # fmt: skip
    want = line_counts(order.get("lines") or [])
    for r in view.reservations_by_order.get(oid, []):
        if line_counts(r.get("lines") or []) != want:
            problems.append(f"{r.get('reservation_id')} holds {line_counts(r.get('lines') or [])}"
                            f", the first body's lines are {want}")  # fmt: skip
    if view.status(oid) == "failed" and not (
            _cause(view, oid) or _failed_in_review(view, oid, inputs)):  # fmt: skip
        problems.append("it was failed though no service refused a step and review let it on")
    if problems:
        yield _violation(view, oid, f"another body under order id {oid} changed the order: "
                         + "; ".join(problems), other)  # fmt: skip


@rule("input-effects")
def check(view: View) -> Iterator[Violation]:
    """An input the orchestrator had to refuse, or a repeat, changed nothing: after a
    reject or a review timeout nothing is captured; a refused reject (after an approve,
    or for an order never under review) fails nothing; another body under a known id
    charges and holds nothing of its own, and fails nothing."""
    for oid, inputs in _inputs(view).items():
        yield from _reviews(view, oid, inputs)
        yield from _submits(view, oid, inputs)
