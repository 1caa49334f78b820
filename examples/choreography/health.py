"""A participant's tiny HTTP face on FRACAS_LISTEN: ``GET /healthz`` for the harness (200
once it is bound to its consumer), and for the order view ``GET /orders/{id}`` and
``POST /orders/{id}/review``.

Plain asyncio streams: one request per connection, no framework to start.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

#: (method, path, JSON body or None) -> (status, answer body)
Route = Callable[[str, str, Any], Awaitable[tuple[int, Any]]]


async def serve(host: str, port: int, route: Route) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            parts = (await reader.readline()).decode("latin-1").split()
            length = 0
            while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip() or 0)
            raw = await reader.readexactly(length) if length else b""
            try:
                sent = json.loads(raw) if raw else None
            except ValueError:
                sent = ValueError
            path = parts[1].split("?")[0] if len(parts) > 1 else "/"
            status, body = (400, {"title": "malformed JSON"}) if sent is ValueError else \
                await route(parts[0] if parts else "", path, sent)
            data = json.dumps(body).encode()
            kind = "problem+json" if status >= 400 else "json"
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/{kind}\r\n"
                         f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                         + data)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
