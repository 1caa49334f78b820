"""A participant's tiny HTTP face on FRACAS_LISTEN: ``GET /healthz`` for the harness (200
once it is bound to its consumer), and for the order view ``GET /orders/{id}``.

Plain asyncio streams: one request per connection, no framework to start.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

Route = Callable[[str], tuple[int, Any]]


async def serve(host: str, port: int, route: Route) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # headers: nothing here needs them
            parts = line.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) > 1 else "/"
            status, body = route(path) if parts and parts[0] == "GET" else (405, {})
            data = json.dumps(body).encode()
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                         + data)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
