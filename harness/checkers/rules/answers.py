"""Input answers: what the orchestrator answered an input the harness sent as a client
fault is one the contract allows for it (docs/contract.md §2, "Inputs that arrive
twice, late or changed"). Each input records its allowed answers (``expect``) when it
is sent, because only the sender knows what it sent: the same decision again, the
opposite one, one after the timeout, another body.

Effects are ``input-effects``'s to judge; this rule reports a wrong answer on its own,
so a refusal answered 200 is seen even when it happened to do nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View
from fracas.harness.checkers.violation import Violation
from fracas.harness.model.history import CLIENT_OPS, CLIENT_REVIEW, REVIEW, Op


def _may_await(view: View, op: Op) -> bool:
    """The order may have been awaiting review when this decision landed: its customer
    is high-risk (its order asks for review) and no decision of it had been answered
    2xx before this one was sent (a review asked once is answered once)."""
    if (view.customer_of(str(op.order_id)) or {}).get("risk") != "high":
        return False
    h = view.snapshot.history
    return h is None or not any(
        o.order_id == op.order_id and o.op in (REVIEW, CLIENT_REVIEW) and o.outcome == "ok"
        and o.completion is not None and o.completion.t < op.invoke.t
        for o in h.ops()
    )  # fmt: skip


@rule("input-answers")
def check(view: View) -> Iterator[Violation]:
    """Every input a client fault sent was answered with a status its kind allows
    (an input with no answer, or a 5xx, is not judged: the client retries those); a
    decision sent before its order reached review may also get what a decision for an
    order in review gets (``in_review``), if the order may have been there by then."""
    h = view.snapshot.history
    if h is None:
        return
    for op in h.ops():
        data = op.invoke.data
        if op.op not in CLIENT_OPS or op.outcome not in ("ok", "fail") or op.completion is None:
            continue
        code, expect = op.completion.data.get("status_code"), data.get("expect") or []
        if code in expect or (code in (data.get("in_review") or ()) and _may_await(view, op)):
            continue
        what = data.get("decision") or "POST /orders"
        race = " (a race: either answer may win, but only these)" if data.get("race") else ""
        yield Violation(
            "input-answers", op.order_id,
            f"the client input {data.get('kind')} ({data.get('fault')}) sent {what} "
            f"{data.get('note') or ''} at {op.invoke.t - view.t0:.3f} s and was answered "
            f"{code}; the contract allows {', '.join(map(str, expect))}{race}",
            expected={"status_code": expect}, actual={"status_code": code},
            t=op.invoke.t,
        )  # fmt: skip
