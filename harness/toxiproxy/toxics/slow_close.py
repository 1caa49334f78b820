"""``slow_close``: data passes untouched; the close is held back ``delay`` ms."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fracas.harness.toxiproxy.toxics.base import Stub, Toxic, register


@register
@dataclass
class SlowCloseToxic(Toxic):
    type_name = "slow_close"
    delay: int = 0

    async def pipe(self, stub: Stub) -> None:
        while True:
            chunk = await stub.recv()
            if chunk is None:
                # Still holding the EOF: removing the toxic now closes at once.
                await asyncio.sleep(self.delay / 1000.0)
                stub.close()
                return
            stub.send(chunk)
