"""A slow fake for chosen requests only (unlike latency, which slows a whole proxy)."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param
from fracas.harness.faults.http import MATCH_PARAMS, HttpRuleFault


class Delay(HttpRuleFault):
    kind = "delay"
    action_kind = "delay"
    summary = "wait ms, then give the real answer"
    params_spec = (
        Param("ms", "int", "how long to wait before answering, in ms", minimum=0, example=500),
        *MATCH_PARAMS,
    )

    def action(self) -> dict[str, Any]:
        return {"kind": "delay", "ms": self.params["ms"]}
