"""The same order id with another body (a client that reuses ids, a cart edited after
the order went out). Correct: 409, and what was charged, held and shipped is still the
first body's."""

from __future__ import annotations

import copy
from typing import Any

from fracas.harness.faults.base import register
from fracas.harness.faults.client import KNOWN, ORDER_ID, ClientFault, OrderClient


def changed(body: dict[str, Any]) -> dict[str, Any]:
    """Another body under the same id: one more of the first line (another total,
    other lines to hold), everything else the same."""
    other = copy.deepcopy(body)
    lines = other.get("lines") or []
    if lines and isinstance(lines[0], dict):
        lines[0]["qty"] = int(lines[0].get("qty") or 0) + 1
    else:
        other["currency"] = "USD" if other.get("currency") != "USD" else "EUR"
    return other


@register
class ResubmitOther(ClientFault):
    kind = "resubmit_other"
    summary = "POST /orders with a known order id and another body (one more of the first line)"
    params_spec = (ORDER_ID,)

    def send(self, client: OrderClient) -> None:
        body = client.body(self.order_id)
        status = client.wait_status(self.order_id, KNOWN)
        if body is None or status is None:
            return
        client.submit(self, changed(body), (409,), f"another body, while the order is {status}")
