"""A decision for an order that never asked for review (a stale form, a webhook for
the wrong order). Correct: 409, and no effect: a reject must not fail an order that
was never under review."""

from __future__ import annotations

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.client import (
    DECISIONS,
    KNOWN,
    ORDER_ID,
    TERMINAL,
    OrderClient,
    ReviewFault,
)


@register
class ReviewUnasked(ReviewFault):
    kind = "review_unasked"
    decides = False  # its order never asks for a review
    summary = "a review decision for an order that is not awaiting review"
    params_spec = (
        ORDER_ID,
        Param("decision", "str", "the decision sent", default="reject", choices=DECISIONS),
    )

    def send(self, client: OrderClient) -> None:
        status = client.wait_status(self.order_id, KNOWN)
        if status is None:
            return
        # Aimed at an order that does await review, it is an ordinary decision; so it
        # may be when it lands, if the order had not got that far yet (a high-risk
        # customer's order, pending or running): the checker, knowing the customer,
        # then allows a 200 (a soak found a pending order answered 200 by the time
        # the decision landed).
        expect = (200, 409) if status == "awaiting_review" else (409,)
        maybe = (200, 409) if status not in TERMINAL and status != "awaiting_review" else ()
        client.review(self, self.order_id, str(self.params["decision"]), expect,
                      f"while the order is {status}", in_review=maybe)  # fmt: skip
