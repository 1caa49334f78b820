"""A connection cut after so many bytes: answers arrive truncated, then EOF."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.network import DIRECTION, TOXICITY, ToxicFault


@register
class LimitData(ToxicFault):
    kind = "limit_data"
    toxic_type = "limit_data"
    summary = "let `bytes` bytes through, then close the connection"
    params_spec = (
        Param("bytes", "int", "bytes let through before the close", minimum=0, example=100),
        DIRECTION,
        TOXICITY,
    )

    def attributes(self) -> dict[str, Any]:
        return {"bytes": self.params["bytes"]}
