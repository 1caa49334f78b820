"""Close the connection without an answer: before commit nothing happened; after commit
the effect is made and the answer is lost, the classic lost reply."""

from __future__ import annotations

from fracas.fakes.actions.base import Action, Exchange, register
from fracas.fakes.service import Answer


@register
class Drop(Action):
    kind = "drop"
    summary = "close the connection without an answer"

    async def instead(self, x: Exchange, would: Answer | None) -> None:
        await x.drop()

    async def after(self, x: Exchange, answer: Answer) -> None:
        await x.drop()
