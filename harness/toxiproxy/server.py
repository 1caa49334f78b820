"""The proxy collection and everything that spans proxies: seeding, the task
registry the leak checks read, populate/reset, and the metrics text."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from typing import Any

from fracas.harness.toxiproxy.proxy import Proxy, StartError

VERSION = "2.12.0"


class ApiError(Exception):
    """An error answer: ``{"error": message, "status": status}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Server:
    def __init__(self, seed: int | None = None, metrics: bool = True) -> None:
        self.seed = seed
        self.metrics_enabled = metrics
        self.proxies: dict[str, Proxy] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.open_sockets = 0

    # -- shared services ----------------------------------------------------------------
    def rng_for(self, proxy: str, index: int, direction: str) -> random.Random:
        if self.seed is None:
            return random.Random()
        # str seeds go through SHA-512: stable across runs and PYTHONHASHSEED.
        return random.Random(f"{self.seed}/{proxy}/{index}/{direction}")

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Every task the proxies start goes through here, so a leak shows in
        ``/_debug/stats``."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # -- collection ---------------------------------------------------------------------
    def get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise ApiError(404, "proxy not found")
        return proxy

    async def add(self, proxy: Proxy, enabled: bool) -> None:
        if proxy.name in self.proxies:
            raise ApiError(409, "proxy already exists")
        if enabled:
            await _start(proxy)
        self.proxies[proxy.name] = proxy

    async def add_or_replace(self, proxy: Proxy, enabled: bool) -> Proxy:
        existing = self.proxies.get(proxy.name)
        if existing is not None:
            if existing.listen == proxy.listen and existing.upstream == proxy.upstream:
                return existing
            existing.stop()
            del self.proxies[proxy.name]
        if enabled:
            await _start(proxy)
        self.proxies[proxy.name] = proxy
        return proxy

    def remove(self, name: str) -> None:
        proxy = self.get(name)
        proxy.stop()
        del self.proxies[name]

    async def update(self, proxy: Proxy, listen: str, upstream: str, enabled: bool) -> None:
        """Go's Proxy.Update: an address change stops the proxy, and then it starts
        again if it is to be enabled."""
        if listen != proxy.listen or upstream != proxy.upstream:
            proxy.stop()
            proxy.listen = listen
            proxy.upstream = upstream
        if enabled != proxy.enabled:
            if enabled:
                await _start(proxy)
            else:
                proxy.stop()

    async def reset(self) -> None:
        for proxy in list(self.proxies.values()):
            await _start(proxy)
            proxy.reset_toxics()

    def close(self) -> None:
        for proxy in list(self.proxies.values()):
            proxy.stop()

    # -- observability ------------------------------------------------------------------
    def stats(self) -> dict[str, object]:
        return {
            "connections": sum(len(p.connections) for p in self.proxies.values()),
            "open_sockets": self.open_sockets,
            "tasks": len(self.tasks),
            "all_tasks": len(asyncio.all_tasks()),
            "proxies": {
                name: {
                    "connections": len(p.connections),
                    "accepted": p.accepted,
                    "enabled": p.enabled,
                }
                for name, p in self.proxies.items()
            },
        }

    def metrics_text(self) -> str:
        out: list[str] = []
        received: list[str] = []
        sent: list[str] = []
        conns: list[str] = []
        for p in self.proxies.values():
            totals = {True: [0, 0], False: [0, 0]}
            for c in p.connections:
                for d in (c.up, c.down):
                    totals[d.upstream][0] += d.received
                    totals[d.upstream][1] += d.sent
            for upstream, (rx, tx) in totals.items():
                tx_total = p.closed_bytes[upstream][1] + tx
                rx_total = p.closed_bytes[upstream][0] + rx
                labels = (
                    f'direction="{"upstream" if upstream else "downstream"}",'
                    f'listener="{_esc(p.listen)}",proxy="{_esc(p.name)}",'
                    f'upstream="{_esc(p.upstream)}"'
                )
                received.append(f"toxiproxy_proxy_received_bytes_total{{{labels}}} {rx_total}")
                sent.append(f"toxiproxy_proxy_sent_bytes_total{{{labels}}} {tx_total}")
            conns.append(
                f'fracas_proxy_open_connections{{proxy="{_esc(p.name)}"}} {len(p.connections)}'
            )
        out += [
            "# HELP toxiproxy_proxy_received_bytes_total The total bytes received from a given proxy link (for a given direction)",
            "# TYPE toxiproxy_proxy_received_bytes_total counter",
            *received,
            "# HELP toxiproxy_proxy_sent_bytes_total The total bytes sent to a given proxy link (for a given direction)",
            "# TYPE toxiproxy_proxy_sent_bytes_total counter",
            *sent,
            "# HELP fracas_proxy_open_connections Client connections open through a proxy",
            "# TYPE fracas_proxy_open_connections gauge",
            *conns,
            "# HELP fracas_open_sockets Proxy-side sockets (client and upstream) not yet closed",
            "# TYPE fracas_open_sockets gauge",
            f"fracas_open_sockets {self.open_sockets}",
            "# HELP fracas_tasks Live asyncio tasks started by the proxies",
            "# TYPE fracas_tasks gauge",
            f"fracas_tasks {len(self.tasks)}",
        ]
        return "\n".join(out) + "\n"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


async def _start(proxy: Proxy) -> None:
    try:
        await proxy.start()
    except StartError as exc:
        raise ApiError(500, str(exc)) from None
