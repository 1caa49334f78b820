"""Park the request until the harness releases it (``POST /_fracas/held/{id}/release``);
a reset aborts the hold and drops the connection."""

from __future__ import annotations

from fracas.fakes import wire
from fracas.fakes.actions.base import Action, Exchange, register
from fracas.fakes.service import Answer


@register
class Hold(Action):
    kind = "hold"
    runs_request = True

    async def before(self, x: Exchange) -> bool:
        return await x.park()

    async def after(self, x: Exchange, answer: Answer) -> None:
        if await x.park():
            await wire.send_answer(x.send, answer, x.headers)
        else:
            await x.drop()
