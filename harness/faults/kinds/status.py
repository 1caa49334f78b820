"""An error answer from the fake itself (a 503 with Retry-After, a 500, a 429)."""

from __future__ import annotations

from typing import Any

from fracas.harness.faults.base import Param
from fracas.harness.faults.http import MATCH_PARAMS, HttpRuleFault


class Status(HttpRuleFault):
    kind = "status"
    action_kind = "status"
    summary = "answer with an HTTP status instead of (or, after_commit, after) the effect"
    params_spec = (
        Param("status", "int", "the HTTP status to answer", minimum=400, maximum=599, example=503),
        Param(
            "retry_after",
            "float",
            "seconds for a Retry-After header",
            default=None,
            minimum=0,
            example=1,
        ),
        *MATCH_PARAMS,
    )

    def action(self) -> dict[str, Any]:
        action: dict[str, Any] = {"kind": "status", "status": self.params["status"]}
        if self.params["retry_after"] is not None:
            action["retry_after"] = self.params["retry_after"]
        return action
