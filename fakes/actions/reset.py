"""Abort the connection with a TCP RST: the client sees ECONNRESET mid-request."""

from __future__ import annotations

from fracas.fakes import wire
from fracas.fakes.actions.base import Action, Exchange, register
from fracas.fakes.service import Answer


@register
class Reset(Action):
    kind = "reset"
    summary = "reset the TCP connection (RST)"

    async def instead(self, x: Exchange, would: Answer | None) -> None:
        await wire.reset(x.scope, x.receive)

    async def after(self, x: Exchange, answer: Answer) -> None:
        await wire.reset(x.scope, x.receive)
