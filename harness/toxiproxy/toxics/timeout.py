"""``timeout``: a black hole. Drops everything in its direction and closes the
connection ``timeout`` ms after the toxic began on it (0: never closes).

Removing it closes the connections it was active on (``close_on_remove``), as in
Toxiproxy, where a stream that lost data cannot sensibly continue.
"""

from __future__ import annotations

from dataclasses import dataclass

from fracas.harness.toxiproxy.toxics.base import Stub, Toxic, register


@register
@dataclass
class TimeoutToxic(Toxic):
    type_name = "timeout"
    close_on_remove = True
    timeout: int = 0

    async def pipe(self, stub: Stub) -> None:
        timer = None
        if self.timeout > 0:
            timer = stub.loop.call_later(self.timeout / 1000.0, stub.close)
        try:
            while True:
                chunk = await stub.recv()
                if chunk is None:
                    stub.close()
                    return
                stub.drop(chunk)
        finally:
            if timer is not None:
                timer.cancel()
