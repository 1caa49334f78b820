"""A thin pipe: data paced to a rate, so big answers take long and small ones barely."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.network import DIRECTION, TOXICITY, ToxicFault


@register
class Bandwidth(ToxicFault):
    kind = "bandwidth"
    toxic_type = "bandwidth"
    summary = "pace data to rate_kbps (KB/s, 1 KB = 1000 bytes); 0 holds data forever"
    params_spec = (
        Param("rate_kbps", "int", "rate in KB per second", minimum=0, example=10),
        DIRECTION,
        TOXICITY,
    )

    def attributes(self) -> dict[str, Any]:
        return {"rate": self.params["rate_kbps"]}
