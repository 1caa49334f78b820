"""docs/extending.md's worked example of an HTTP fault action defined outside fracas: the
fake answers 418 with the tea it brewed, instead of the real answer (before commit) or
after making the effect (after commit).

This file is the whole of it. Importing it registers the action with the fakes, as the
built-in ones in ``fracas/fakes/actions/`` are; the harness then offers a ``teapot``
fault kind whose params are the settings declared here plus the usual match params.
"""

from __future__ import annotations

from typing import Any

from fracas.fakes import wire
from fracas.fakes.actions import Action, Exchange, register
from fracas.fakes.contract import Setting
from fracas.fakes.service import Answer

TEAPOT = 418


@register
class Teapot(Action):
    kind = "teapot"
    summary = "answer 418 with a pot of the given brew"
    settings = (
        Setting("brew", "str", "what is in the pot", choices=("earl_grey", "green", "rooibos")),
        Setting("cups", "int", "how many cups it pours", default=1, minimum=1, maximum=12),
    )

    def tag(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"brew": settings["brew"]}

    def status_instead(self, settings: dict[str, Any], would: Answer | None) -> int | None:
        return TEAPOT

    async def instead(self, x: Exchange, would: Answer | None) -> None:
        body = wire.problem_body(TEAPOT, "teapot", f"fault rule {x.rule_id!r}", **x.settings)
        await wire.send_raw(x.send, TEAPOT, wire.encode(body), wire.PROBLEM, x.headers)

    async def after(self, x: Exchange, answer: Answer) -> None:
        await self.instead(x, None)
