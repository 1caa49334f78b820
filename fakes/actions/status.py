"""Answer with an error status (and maybe Retry-After) instead of, or after, the effect:
a 503 with Retry-After, a 500, a 429 from the fake itself."""

from __future__ import annotations

import math
from typing import Any

from fracas.fakes import wire
from fracas.fakes.actions.base import Action, Exchange, register
from fracas.fakes.contract import Setting
from fracas.fakes.service import Answer


@register
class Status(Action):
    kind = "status"
    summary = "answer with an HTTP status instead of (or, after_commit, after) the effect"
    settings = (
        Setting(
            "status", "int", "the HTTP status to answer", minimum=400, maximum=599, example=503
        ),
        Setting(
            "retry_after", "float", "seconds for a Retry-After header",
            default=None, minimum=0, maximum=86400, example=1,
        ),
    )  # fmt: skip
    #: a rule on the wire may leave ``status`` out (contract §4); a fault names it
    WIRE_STATUS = 503

    def parse(self, action: dict[str, Any], where: str) -> dict[str, Any]:
        return super().parse({"status": self.WIRE_STATUS, **action}, where)

    def tag(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"status": settings["status"]}

    def status_instead(self, settings: dict[str, Any], would: Answer | None) -> int | None:
        return int(settings["status"])

    async def instead(self, x: Exchange, would: Answer | None) -> None:
        extra = list(x.headers)
        if x.settings["retry_after"] is not None:
            # HTTP wants whole seconds
            extra.append((b"retry-after", str(math.ceil(x.settings["retry_after"])).encode()))
        status = x.settings["status"]
        body = wire.problem_body(status, "injected-fault", f"fault rule {x.rule_id!r}")
        await wire.send_raw(x.send, status, wire.encode(body), wire.PROBLEM, extra)

    async def after(self, x: Exchange, answer: Answer) -> None:
        await self.instead(x, None)
