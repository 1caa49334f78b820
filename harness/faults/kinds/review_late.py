"""A decision that arrives after the review timed out (the reviewer came back from the
weekend). The harness jumps the orchestrator's test clock past the timeout, waits until
the order left review, then sends it. Correct: 409, and the timed-out order stays
failed with nothing captured."""

from __future__ import annotations

from fracas.harness.faults.base import register
from fracas.harness.faults.client import DECISION, ORDER_ID, OrderClient, ReviewFault


@register
class ReviewLate(ReviewFault):
    kind = "review_late"
    summary = "a review decision sent after the review timeout fired (needs advance_clock)"
    params_spec = (ORDER_ID, DECISION)

    def send(self, client: OrderClient) -> None:
        if client.wait_status(self.order_id, {"awaiting_review"}) is None:
            return
        client.advance_clock(self)
        if self.after_review(client):
            client.review(self, self.order_id, str(self.params["decision"]), (409,),
                          "after the review timeout fired")  # fmt: skip
