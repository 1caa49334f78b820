"""Slow answers (or requests): each chunk held back by a fixed delay."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.network import DIRECTION, TOXICITY, ToxicFault


@register
class Latency(ToxicFault):
    kind = "latency"
    toxic_type = "latency"
    summary = "delay every chunk by latency_ms (± jitter_ms)"
    params_spec = (
        Param("latency_ms", "int", "delay added to each chunk, in ms", minimum=0, example=200),
        Param("jitter_ms", "int", "random spread around the delay, in ms", default=0, minimum=0),
        DIRECTION,
        TOXICITY,
    )

    def attributes(self) -> dict[str, Any]:
        return {"latency": self.params["latency_ms"], "jitter": self.params["jitter_ms"]}
