"""Network faults: toxics on the proxy in front of a target, in a chosen direction.

``upstream`` is what the caller sends (requests), ``downstream`` what comes back
(responses), ``both`` puts one toxic on each.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fracas.harness.faults.base import Fault, Param, missing_target
from fracas.harness.faults.context import FaultContext, FaultError
from fracas.harness.kit.toxiclient import ToxiClient, ToxiproxyError

DIRECTION = Param(
    "direction",
    "str",
    "which way the toxic acts: downstream = answers, upstream = requests, both",
    default="downstream",
    choices=("downstream", "upstream", "both"),
)
TOXICITY = Param(
    "toxicity",
    "float",
    "the chance each connection is affected (rolled per connection, not per request)",
    default=1.0,
    minimum=0.0,
    maximum=1.0,
)


def proxy_of(fault: Fault, ctx: FaultContext) -> tuple[ToxiClient, str]:
    client = ctx.toxiproxy
    if client is None:
        raise FaultError(f"{fault.kind} fault on {fault.target!r}: the context has no toxiproxy")
    proxy = ctx.proxy_name(fault.target)
    if proxy is None:
        raise missing_target(fault, ctx, "proxy", "proxy")
    return client, proxy


class ToxicFault(Fault):
    """One toxic per direction, named ``<id>-<stream>`` so heal finds exactly those."""

    family = "network"
    spills = True
    toxic_type: ClassVar[str]

    def attributes(self) -> dict[str, Any]:
        """The toxic's attributes, from the params (units as the server wants them)."""
        raise NotImplementedError

    def streams(self) -> tuple[str, ...]:
        direction = self.params.get("direction", "downstream")
        return ("upstream", "downstream") if direction == "both" else (direction,)

    def toxic_name(self, stream: str) -> str:
        return f"{self.id}-{stream}"

    def apply(self, ctx: FaultContext) -> None:
        client, proxy = proxy_of(self, ctx)
        added: list[str] = []
        try:
            for stream in self.streams():
                toxic = client.add_toxic(
                    proxy,
                    self.toxic_type,
                    name=self.toxic_name(stream),
                    stream=stream,
                    toxicity=float(self.params.get("toxicity", 1.0)),
                    attributes=self.attributes(),
                )
                added.append(toxic.name)
        except ToxiproxyError as exc:
            for name in added:  # all directions or none
                client.remove_toxic(proxy, name, missing_ok=True)
            raise FaultError(
                f"{self.kind} fault on {self.target!r} (proxy {proxy}): {exc}"
            ) from exc

    def heal(self, ctx: FaultContext) -> None:
        client, proxy = proxy_of(self, ctx)
        try:
            for stream in self.streams():
                # 404 is "toxic not found" or "proxy not found": nothing left to heal.
                client.remove_toxic(proxy, self.toxic_name(stream), missing_ok=True)
        except ToxiproxyError as exc:
            raise FaultError(
                f"healing {self.kind} on {self.target!r} (proxy {proxy}): {exc}"
            ) from exc
