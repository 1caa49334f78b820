"""A decision racing the review timeout: the clock jump and the decision are released
together. Either may win (200: the decision took; 409: the timeout did), but the order
must end as exactly one of them says. A race by nature: a replay may take the other
branch, so its witness and report mark it as a race."""

from __future__ import annotations

from fracas.harness.faults.base import register
from fracas.harness.faults.client import DECISION, ORDER_ID, OrderClient, ReviewFault


@register
class ReviewRace(ReviewFault):
    kind = "review_race"
    race = True
    summary = (
        "a review decision racing the review timeout (a race: either may win; needs "
        "advance_clock)"
    )
    params_spec = (ORDER_ID, DECISION)

    def send(self, client: OrderClient) -> None:
        if client.wait_status(self.order_id, {"awaiting_review"}) is None:
            return
        decision = str(self.params["decision"])
        client.together([
            lambda: client.advance_clock(self),
            lambda: client.review(self, self.order_id, decision, (200, 409),
                                  "racing the review timeout"),
        ])  # fmt: skip
