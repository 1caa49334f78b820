"""Park the request until the harness releases it (``POST /_fracas/held/{id}/release``);
a reset aborts the hold and drops the connection.

With after_commit the effect is made and the answer waits, so a scenario can crash the
orchestrator at exactly that moment. Healing the fault removes the rule; requests it
already holds stay held until released (or the fake restarts), because releasing is a
scenario decision.
"""

from __future__ import annotations

from fracas.fakes import wire
from fracas.fakes.actions.base import Action, Exchange, register
from fracas.fakes.service import Answer


@register
class Hold(Action):
    kind = "hold"
    summary = "park matching requests until POST /_fracas/held/{id}/release"
    runs_request = True

    async def before(self, x: Exchange) -> bool:
        return await x.park()

    async def after(self, x: Exchange, answer: Answer) -> None:
        if await x.park():
            await wire.send_answer(x.send, answer, x.headers)
        else:
            await x.drop()
