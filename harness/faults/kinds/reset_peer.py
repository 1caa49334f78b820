"""A connection reset (ECONNRESET) on the first data: the caller never learns the outcome."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.network import DIRECTION, TOXICITY, ToxicFault


@register
class ResetPeer(ToxicFault):
    kind = "reset_peer"
    toxic_type = "reset_peer"
    summary = "on the first data, drop it, wait timeout_ms, then reset the connection (RST)"
    params_spec = (
        Param("timeout_ms", "int", "wait before the reset, in ms", default=0, minimum=0),
        DIRECTION,
        TOXICITY,
    )

    def attributes(self) -> dict[str, Any]:
        return {"timeout": self.params["timeout_ms"]}
