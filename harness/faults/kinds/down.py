"""The service is unreachable: the proxy stops listening and drops live connections."""

from __future__ import annotations

from fracas.harness.faults.base import Fault, register
from fracas.harness.faults.context import FaultContext, FaultError
from fracas.harness.faults.network import proxy_of
from fracas.harness.kit.toxiclient import ToxiproxyError


@register
class Down(Fault):
    kind = "down"
    family = "network"
    spills = True
    summary = "disable the target's proxy: connects are refused, open connections closed"
    params_spec = ()

    def apply(self, ctx: FaultContext) -> None:
        client, proxy = proxy_of(self, ctx)
        try:
            client.disable(proxy)
        except ToxiproxyError as exc:
            raise FaultError(f"down fault on {self.target!r} (proxy {proxy}): {exc}") from exc

    def heal(self, ctx: FaultContext) -> None:
        client, proxy = proxy_of(self, ctx)
        try:
            client.enable(proxy)
        except ToxiproxyError as exc:
            if exc.status != 404:  # a proxy that is gone is not down
                raise FaultError(f"healing down on {self.target!r}: {exc}") from exc
