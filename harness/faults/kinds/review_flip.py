"""A reviewer changes their mind after the order already runs on the first decision
(approve, then reject). Correct: 409, and no effect: a reject after an approve must not
undo (refund) an order that runs or completed."""

from __future__ import annotations

from fracas.harness.faults.base import register
from fracas.harness.faults.client import DECISION, ORDER_ID, OrderClient, ReviewFault, opposite


@register
class ReviewFlip(ReviewFault):
    kind = "review_flip"
    summary = "a review decision, then the opposite one after the first took effect"
    params_spec = (ORDER_ID, DECISION)

    def send(self, client: OrderClient) -> None:
        decision = str(self.params["decision"])
        if self.first_decision(client, decision) and self.after_review(client):
            client.review(self, self.order_id, opposite(decision), (409,),
                          f"the opposite decision, after {decision} took effect")  # fmt: skip
