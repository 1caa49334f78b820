"""A close that lingers: data arrives intact, the connection ends late."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.network import DIRECTION, TOXICITY, ToxicFault


@register
class SlowClose(ToxicFault):
    kind = "slow_close"
    toxic_type = "slow_close"
    summary = "hold the close for delay_ms; data is unchanged"
    params_spec = (
        Param("delay_ms", "int", "how long the close is held, in ms", minimum=0, example=1000),
        DIRECTION,
        TOXICITY,
    )

    def attributes(self) -> dict[str, Any]:
        return {"delay": self.params["delay_ms"]}
