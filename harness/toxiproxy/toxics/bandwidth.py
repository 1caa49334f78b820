"""``bandwidth``: paces a direction to ``rate`` KB/s (KB = 1000 bytes).

Pacing is against an absolute schedule, so timer slack on a busy machine does not
accumulate into a lower rate. Large chunks go out in 100 ms slices so the receiver
sees a steady stream, not bursts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fracas.harness.toxiproxy.toxics.base import Chunk, Stub, Toxic, register


@register
@dataclass
class BandwidthToxic(Toxic):
    type_name = "bandwidth"
    rate: int = 0

    def validate(self) -> str | None:
        if self.rate < 0:
            return "rate must be >= 0"
        return None

    async def pipe(self, stub: Stub) -> None:
        bytes_per_s = self.rate * 1000.0
        slice_size = max(1, self.rate * 100)
        free_at = stub.now()
        while True:
            chunk = await stub.recv()
            if chunk is None:
                stub.close()
                return
            if self.rate == 0:
                # As the real server: at rate 0 nothing gets through, ever. Removing
                # the toxic flushes what it holds.
                await asyncio.get_running_loop().create_future()
            data = chunk.data
            free_at = max(free_at, stub.now())
            offset = 0
            while offset < len(data):
                piece = data[offset : offset + slice_size]
                free_at += len(piece) / bytes_per_s
                wait = free_at - stub.now()
                if wait > 0:
                    await asyncio.sleep(wait)
                offset += len(piece)
                stub.send(Chunk(piece, chunk.ts))
                if offset < len(data):
                    stub.hold(Chunk(data[offset:], chunk.ts))
