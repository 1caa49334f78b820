"""Answer with an error status (and maybe Retry-After) instead of, or after, the effect."""

from __future__ import annotations

import math
from typing import Any

from fracas.fakes import wire
from fracas.fakes.actions.base import Action, Exchange, int_field, number_field, register
from fracas.fakes.service import Answer


@register
class Status(Action):
    kind = "status"
    keys = frozenset({"status", "retry_after"})

    def parse(self, action: dict[str, Any], where: str) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "status": int_field(action.get("status", 503), f"{where}.action.status", 400, 599),
            "retry_after": None,
        }
        if action.get("retry_after") is not None:
            settings["retry_after"] = number_field(
                action["retry_after"], f"{where}.action.retry_after", 0, 86400
            )
        return settings

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
