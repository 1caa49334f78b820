"""``latency``: each chunk leaves ``latency ± jitter`` ms after it was read.

The delay counts from the read time, not from when the previous chunk left, so a
stream is shifted in time rather than slowed down (chunks pipeline, as in Toxiproxy).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fracas.harness.toxiproxy.toxics.base import Stub, Toxic, register


@register
@dataclass
class LatencyToxic(Toxic):
    type_name = "latency"
    latency: int = 0
    jitter: int = 0

    def delay_ms(self, stub: Stub) -> int:
        delay = self.latency
        if self.jitter > 0:
            # Go: rand.Int63n(2*jitter) - jitter, i.e. [-jitter, jitter).
            delay += stub.rng.randrange(2 * self.jitter) - self.jitter
        return delay

    async def pipe(self, stub: Stub) -> None:
        while True:
            chunk = await stub.recv()
            if chunk is None:
                stub.close()
                return
            due = chunk.ts + self.delay_ms(stub) / 1000.0
            wait = due - stub.now()
            if wait > 0:
                await asyncio.sleep(wait)
                # A later latency toxic in the chain counts from here.
                chunk.ts = due
            stub.send(chunk)
