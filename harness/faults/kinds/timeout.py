"""A black hole: data vanishes, and the connection closes after a while (or never)."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.network import DIRECTION, TOXICITY, ToxicFault


@register
class Timeout(ToxicFault):
    kind = "timeout"
    toxic_type = "timeout"
    summary = "drop all data; close the connection after timeout_ms (0 = keep it open forever)"
    params_spec = (
        Param("timeout_ms", "int", "when to close, in ms; 0 never closes", minimum=0, example=1000),
        DIRECTION,
        TOXICITY,
    )

    def attributes(self) -> dict[str, Any]:
        return {"timeout": self.params["timeout_ms"]}
