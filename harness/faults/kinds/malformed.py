"""A garbled answer: tests that the orchestrator treats an unreadable reply as unknown."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param
from fracas.harness.faults.http import MATCH_PARAMS, HttpRuleFault

SHAPES = ("invalid_json", "truncated", "empty", "html", "wrong_types", "missing_fields")


class Malformed(HttpRuleFault):
    kind = "malformed"
    action_kind = "malformed"
    summary = "answer with a body of the given shape instead of the real one"
    params_spec = (
        Param("shape", "str", "how the body is broken", choices=SHAPES),
        *MATCH_PARAMS,
    )

    def action(self) -> dict[str, Any]:
        return {"kind": "malformed", "shape": self.params["shape"]}
