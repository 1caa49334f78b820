"""``limit_data``: lets ``bytes`` bytes through in its direction, cutting the chunk
that crosses the limit, then closes the connection. The count survives updates of
the toxic (per connection), as in Toxiproxy, so raising the limit lets more through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fracas.harness.toxiproxy.toxics.base import Stub, Toxic, register


class _Sent:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


@register
@dataclass
class LimitDataToxic(Toxic):
    type_name = "limit_data"
    bytes: int = 0

    def validate(self) -> str | None:
        if self.bytes < 0:
            return "bytes must be >= 0"
        return None

    def new_state(self) -> Any:
        return _Sent()

    async def pipe(self, stub: Stub) -> None:
        sent: _Sent = stub.state
        while True:
            if self.bytes - sent.n <= 0 and sent.n > 0:
                stub.close()
                return
            chunk = await stub.recv()
            if chunk is None:
                stub.close()
                return
            remaining = max(0, self.bytes - sent.n)
            if remaining < len(chunk.data):
                stub.discard(len(chunk.data) - remaining)
                chunk.data = chunk.data[:remaining]
            if chunk.data:
                sent.n += len(chunk.data)
                stub.send(chunk)
            else:
                stub.drop(chunk)
            if self.bytes - sent.n <= 0:
                stub.close()
                return
