"""A client retries ``POST /orders`` after a lost answer: the same body again, while the
order runs or after it finished. Correct: 200 or 202 with the same order, and no second
saga: not a second effect of any kind."""

from __future__ import annotations

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.client import KNOWN, ORDER_ID, TERMINAL, ClientFault, OrderClient


@register
class Resubmit(ClientFault):
    kind = "resubmit"
    summary = "POST /orders again with the same body, while the order runs or (after_done) once it finished"
    params_spec = (
        ORDER_ID,
        Param("after_done", "bool", "wait until the order finished (false: at once)",
              default=False),
    )  # fmt: skip

    def send(self, client: OrderClient) -> None:
        body = client.body(self.order_id)
        wanted = TERMINAL if self.params["after_done"] else KNOWN
        status = client.wait_status(self.order_id, wanted)
        if body is None or status is None:
            return
        client.submit(self, body, (200, 202), f"the same body again, while the order is {status}")
