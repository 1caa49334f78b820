"""A reviewer double-clicks, or a webhook delivers the decision again: the same review
decision twice. Correct: 200 or 409 to the copy, and the decision takes effect once."""

from __future__ import annotations

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.client import DECISION, ORDER_ID, OrderClient, ReviewFault


@register
class ReviewTwice(ReviewFault):
    kind = "review_twice"
    summary = (
        "the same review decision sent twice: both at once while the order awaits "
        "review, or (later) the copy after the first took effect"
    )
    params_spec = (
        ORDER_ID,
        DECISION,
        Param("later", "bool", "send the copy once the first took effect (false: both at once)",
              default=False),
    )  # fmt: skip

    def send(self, client: OrderClient) -> None:
        decision = str(self.params["decision"])
        if not self.params["later"]:
            self.first_decision(client, decision, copies=2)
        elif self.first_decision(client, decision) and self.after_review(client):
            client.review(self, self.order_id, decision, (200, 409),
                          "the same decision again, after it took effect")  # fmt: skip
