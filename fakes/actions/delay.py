"""Wait ``ms`` before doing the request (before commit) or before answering (after)."""

from __future__ import annotations

from typing import Any

from fracas.fakes import wire
from fracas.fakes.actions.base import Action, Exchange, RuleError, int_field, register, sleep_ms
from fracas.fakes.service import Answer


@register
class Delay(Action):
    kind = "delay"
    keys = frozenset({"ms"})
    runs_request = True

    def parse(self, action: dict[str, Any], where: str) -> dict[str, Any]:
        if "ms" not in action:
            raise RuleError(f"{where}.action.ms", "is required for delay")
        return {"ms": int_field(action["ms"], f"{where}.action.ms", 0, 600_000)}

    def tag(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"ms": settings["ms"]}

    async def before(self, x: Exchange) -> bool:
        await sleep_ms(x.settings)
        return True

    async def after(self, x: Exchange, answer: Answer) -> None:
        await sleep_ms(x.settings)
        await wire.send_answer(x.send, answer, x.headers)
