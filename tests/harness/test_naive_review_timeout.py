"""The naive orchestrator with no bug is one of the search's correct orchestrators: a
decision that comes after its review timed out must not take, however close the two,
and the first decision counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from harness_helpers import naive_spec

from fracas.harness.kit.waiting import wait_until
from fracas.harness.run.client import REVIEW_TIMEOUT_JUMP
from fracas.harness.run.workload import orders


def in_review(adapter: Any) -> Iterator[tuple[str, Callable[[], str | None]]]:
    """Three orders, one at a time: each submitted, then (its id, a read of its status)
    once it awaits review. The test decides it, then reads how it ended."""
    for plan in orders(3, seed=0, intents=("review_approve",)):
        assert adapter.submit(dict(plan.order)).status_code in (200, 201, 202)
        oid = plan.order_id

        def status(oid: str = oid) -> str | None:
            return (adapter.status(oid) or {}).get("status")

        wait_until(lambda: status() == "awaiting_review", 20, what=f"{oid} to await review")
        yield oid, status
        wait_until(lambda: status() in ("completed", "failed"), 20, what=f"{oid} to end")


def test_a_decision_just_after_the_review_deadline_is_refused(start_topology: Any) -> None:
    """The clock jumps past the deadline and an approve follows at once, before the
    order's own check of the deadline (every 50 ms) has run. It took the approve and
    completed the order, and a crash while it sent the timed-out order's
    ``order_failed`` resumed it as approved: a false alarm of the property search on
    the "correct" naive orchestrator, under load (completed-ledger). The deadline is
    the order's, not the moment the order looks at it."""
    adapter = start_topology(naive_spec()).orchestrator
    ended = []
    for oid, status in in_review(adapter):
        adapter.advance_clock(REVIEW_TIMEOUT_JUMP)
        answer = adapter.review(oid, "approve")
        assert answer.status_code == 409, (oid, answer)
        ended.append(status)
    assert [status() for status in ended] == ["failed"] * 3


def test_the_first_decision_counts_before_the_saga_has_read_it(start_topology: Any) -> None:
    """A reject, then at once an approve, both while the order awaits review: the
    saga reads the decision every 50 ms, and the approve overwrote the reject (200 to
    both) and the order was captured. The second decision is refused, the first one
    taken: a soak of the search against the naive orchestrator with no bug found it
    (input-effects), when a client input's reject and the run's approve crossed."""
    adapter = start_topology(naive_spec()).orchestrator
    ended = []
    for oid, status in in_review(adapter):
        assert adapter.review(oid, "reject").status_code == 200
        again = adapter.review(oid, "approve")
        assert again.status_code == 409, (oid, again)
        ended.append(status)
    assert [status() for status in ended] == ["failed"] * 3
