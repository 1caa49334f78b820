"""Send a broken answer (bad JSON, truncated, empty, HTML, wrong types, missing fields)
in place of the real one, which before commit is computed and not committed: does the
orchestrator treat an unreadable reply as unknown?"""

from __future__ import annotations

from typing import Any

from fracas.fakes import wire
from fracas.fakes.actions.base import Action, Exchange, register
from fracas.fakes.contract import Setting
from fracas.fakes.service import Answer

SHAPES = ("invalid_json", "truncated", "empty", "html", "wrong_types", "missing_fields")


@register
class Malformed(Action):
    kind = "malformed"
    summary = "answer with a body of the given shape instead of the real one"
    settings = (Setting("shape", "str", "how the body is broken", choices=SHAPES),)
    needs_answer = True

    def tag(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"shape": settings["shape"]}

    async def instead(self, x: Exchange, would: Answer | None) -> None:
        assert would is not None
        await wire.malformed(x.scope, x.receive, x.send, x.settings["shape"], would, x.headers)

    async def after(self, x: Exchange, answer: Answer) -> None:
        await self.instead(x, answer)
