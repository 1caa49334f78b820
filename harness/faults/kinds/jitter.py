"""Unsteady timing: delays that vary chunk to chunk, which reorders nothing but races."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.network import DIRECTION, TOXICITY, ToxicFault


@register
class Jitter(ToxicFault):
    kind = "jitter"
    toxic_type = "latency"
    summary = "delay each chunk by a random latency_ms ± jitter_ms (seeded by the server)"
    params_spec = (
        Param("jitter_ms", "int", "random spread of the delay, in ms", minimum=1, example=50),
        Param("latency_ms", "int", "centre of the delay, in ms", default=0, minimum=0),
        DIRECTION,
        TOXICITY,
    )

    def attributes(self) -> dict[str, Any]:
        return {"latency": self.params["latency_ms"], "jitter": self.params["jitter_ms"]}
