"""``slicer``: cuts each chunk into pieces of ``average_size ± size_variation`` bytes,
``delay`` µs apart, to exercise a peer's reassembly of short reads.

Unlike Toxiproxy's recursive halving (whose pieces can end up far below
``average_size``), pieces are cut front to back, so every piece but the last of a
chunk is within the stated bounds; a chunk no bigger than ``average_size +
size_variation`` goes through whole, as in Toxiproxy.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from fracas.harness.toxiproxy.toxics.base import Chunk, Stub, Toxic, register


def slice_sizes(total: int, average: int, variation: int, rng: random.Random) -> list[int]:
    sizes: list[int] = []
    left = total
    while left > average + variation:
        size = average
        if variation > 0:
            size += rng.randint(-variation, variation)
        size = max(1, size)
        sizes.append(size)
        left -= size
    if left > 0:
        sizes.append(left)
    return sizes


@register
@dataclass
class SlicerToxic(Toxic):
    type_name = "slicer"
    average_size: int = 0
    size_variation: int = 0
    delay: int = 0

    def validate(self) -> str | None:
        if self.average_size < 1:
            return "average_size must be >= 1"
        if self.size_variation < 0:
            return "size_variation must be >= 0"
        if self.delay < 0:
            return "delay must be >= 0"
        return None

    async def pipe(self, stub: Stub) -> None:
        while True:
            chunk = await stub.recv()
            if chunk is None:
                stub.close()
                return
            data = chunk.data
            sizes = slice_sizes(len(data), self.average_size, self.size_variation, stub.rng)
            offset = 0
            for size in sizes:
                stub.send(Chunk(data[offset : offset + size], chunk.ts))
                offset += size
                if offset < len(data):
                    stub.hold(Chunk(data[offset:], chunk.ts))
                    if self.delay > 0:
                        await asyncio.sleep(self.delay / 1_000_000.0)
