"""Wait ``ms`` before doing the request (before commit) or before answering (after): a
slow fake for chosen requests only, where latency slows a whole proxy."""

from __future__ import annotations

from typing import Any

from fracas.fakes import wire
from fracas.fakes.actions.base import Action, Exchange, register, sleep_ms
from fracas.fakes.contract import Setting
from fracas.fakes.service import Answer


@register
class Delay(Action):
    kind = "delay"
    summary = "wait ms, then give the real answer"
    settings = (
        Setting(
            "ms", "int", "how long to wait before answering, in ms",
            minimum=0, maximum=600_000, example=500,
        ),
    )  # fmt: skip
    runs_request = True

    def tag(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"ms": settings["ms"]}

    async def before(self, x: Exchange) -> bool:
        await sleep_ms(x.settings)
        return True

    async def after(self, x: Exchange, answer: Answer) -> None:
        await sleep_ms(x.settings)
        await wire.send_answer(x.send, answer, x.headers)
