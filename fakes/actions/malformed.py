"""Send a broken answer (bad JSON, truncated, empty, HTML, wrong types, missing fields)
in place of the real one, which before commit is computed and not committed."""

from __future__ import annotations

from typing import Any

from fracas.fakes import wire
from fracas.fakes.actions.base import Action, Exchange, RuleError, register
from fracas.fakes.service import Answer

SHAPES = ("invalid_json", "truncated", "empty", "html", "wrong_types", "missing_fields")


@register
class Malformed(Action):
    kind = "malformed"
    keys = frozenset({"shape"})
    needs_answer = True

    def parse(self, action: dict[str, Any], where: str) -> dict[str, Any]:
        shape = action.get("shape")
        if shape not in SHAPES:
            raise RuleError(
                f"{where}.action.shape", f"expected one of {', '.join(SHAPES)}, got {shape!r}"
            )
        return {"shape": shape}

    def tag(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"shape": settings["shape"]}

    async def instead(self, x: Exchange, would: Answer | None) -> None:
        assert would is not None
        await wire.malformed(x.scope, x.receive, x.send, x.settings["shape"], would, x.headers)

    async def after(self, x: Exchange, answer: Answer) -> None:
        await self.instead(x, answer)
