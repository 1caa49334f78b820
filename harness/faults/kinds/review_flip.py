"""A reviewer changes their mind after the order already runs on the first decision
(approve, then reject). Correct: 409, and no effect: a reject after an approve must not
undo (refund) an order that runs or completed.

Sent while the saga runs, the opposite decision races the saga's own progress: which
steps a wrong orchestrator undoes, and whether its saga or its undo writes last, is up
to timings the harness cannot order, so that variant is a race by nature. Sent once the
order ended (``after_done``), nothing moves beside it, and its verdict replays."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.client import (
    DECISION,
    ORDER_ID,
    TERMINAL,
    OrderClient,
    ReviewFault,
    opposite,
)  # fmt: skip


@register
class ReviewFlip(ReviewFault):
    kind = "review_flip"
    summary = (
        "a review decision, then the opposite one after the first took effect: while the "
        "saga runs (a race with it) or (after_done) once the order ended"
    )
    params_spec = (
        ORDER_ID,
        DECISION,
        Param("after_done", "bool",
              "send the opposite decision once the order ended (false: as soon as the "
              "first took effect, racing the saga)", default=False),
    )  # fmt: skip

    @classmethod
    def is_race(cls, params: Mapping[str, Any]) -> bool:
        return not params.get("after_done", False)

    def send(self, client: OrderClient) -> None:
        decision = str(self.params["decision"])
        if not (self.first_decision(client, decision) and self.after_review(client)):
            return
        when = f"{decision} took effect"
        if self.params["after_done"]:
            if client.wait_status(self.order_id, TERMINAL) is None:
                return
            when = "the order ended"
        client.review(self, self.order_id, opposite(decision), (409,),
                      f"the opposite decision, after {when}")  # fmt: skip
