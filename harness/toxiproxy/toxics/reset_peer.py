"""``reset_peer``: on the first data in its direction, drop it, wait ``timeout`` ms,
then reset the connection with a real RST (SO_LINGER 0), so the peers see ECONNRESET
rather than an orderly close.

Once it has dropped data the reset is certain, as in Toxiproxy (whose wait ignores
an interrupt): removed during the wait, the connection is reset then (``doomed``). Let
go on instead, an HTTP request whose head it dropped sent its body alone, the server
answered 400, and a client took that for the service's answer to a refund it never saw."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fracas.harness.toxiproxy.toxics.base import Stub, Toxic, register


@register
@dataclass
class ResetPeerToxic(Toxic):
    type_name = "reset_peer"
    timeout: int = 0

    async def pipe(self, stub: Stub) -> None:
        chunk = await stub.recv()
        if chunk is not None:
            stub.drop(chunk)
            stub.doomed = True
        else:
            stub.hold(None)
        if self.timeout > 0:
            await asyncio.sleep(self.timeout / 1000.0)
        stub.reset()
