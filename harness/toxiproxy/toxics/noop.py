"""``noop``: passes data through; useful to test the chain machinery itself."""

from __future__ import annotations

from dataclasses import dataclass

from fracas.harness.toxiproxy.toxics.base import Stub, Toxic, pass_through, register


@register
@dataclass
class NoopToxic(Toxic):
    type_name = "noop"

    async def pipe(self, stub: Stub) -> None:
        await pass_through(stub)
