"""Putting answers on the wire, and the ways a fault breaks them.

``drop`` and ``reset`` need the connection itself, which ASGI hides; the fakes run
uvicorn with ``FracasProtocol`` (see ``fracas.fakes.server``), which puts the asyncio
transport into the scope under ``fracas.transport``. Returning from the app without a
response would make uvicorn send a 500, so after closing the transport the app waits
for uvicorn to notice the disconnect, then returns: nothing more is written.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from http import HTTPStatus
from typing import Any

from fracas.fakes.service import Answer

Scope = dict[str, Any]
JSON = b"application/json"
PROBLEM = b"application/problem+json"


def encode(body: Any) -> bytes:
    return json.dumps(body).encode()


def problem_body(status: int, type_: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "title": _phrase(status), "status": status, "detail": detail, **extra}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


async def send_raw(
    send: Any,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_answer(send: Any, answer: Answer, headers: list[tuple[bytes, bytes]]) -> None:
    body = answer.encoded().encode()
    await send_raw(send, answer.status, body, PROBLEM if answer.problem else JSON, headers)


async def _await_disconnect(receive: Any) -> None:
    """Let uvicorn see the connection is gone, so it does not answer for us."""
    try:
        while True:
            message = await asyncio.wait_for(receive(), 5.0)
            if message["type"] == "http.disconnect":
                return
    except TimeoutError:
        return


async def drop(scope: Scope, receive: Any) -> None:
    """Close the connection (FIN) without a byte of answer."""
    transport = scope.get("fracas.transport")
    if transport is not None:
        transport.close()
    await _await_disconnect(receive)


async def reset(scope: Scope, receive: Any) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0, then close)."""
    transport = scope.get("fracas.transport")
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    await _await_disconnect(receive)


def _flip(value: Any) -> Any:
    """The same field with a value of the wrong JSON type."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return len(value)
    if value is None:
        return 0
    if isinstance(value, list):
        return {"items": len(value)}
    return [value]


def _wrong_types(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _flip(v) for k, v in body.items()}
    if isinstance(body, list):
        return [_wrong_types(item) for item in body]
    return _flip(body)


def _missing_fields(body: Any) -> Any:
    if isinstance(body, list):
        return [_missing_fields(item) for item in body]
    if isinstance(body, dict):
        kept = {k: v for k, v in body.items() if not (k.endswith("_id") or k == "status")}
        return {} if len(kept) == len(body) else kept
    return {}


async def malformed(
    scope: Scope,
    receive: Any,
    send: Any,
    shape: str,
    answer: Answer,
    headers: list[tuple[bytes, bytes]],
) -> None:
    """The decided status with a body a client cannot use (shapes: docs/fakes.md)."""
    real = answer.encoded().encode()
    status = answer.status
    if shape == "invalid_json":
        await send_raw(send, status, real[:-1] + b",}", JSON, headers)
    elif shape == "empty":
        await send_raw(send, status, b"", JSON, headers)
    elif shape == "html":
        page = (
            f"<!DOCTYPE html><html><head><title>{status}</title></head>"
            f"<body><h1>{status} {_phrase(status)}</h1></body></html>"
        ).encode()
        await send_raw(send, status, page, b"text/html; charset=utf-8", headers)
    elif shape == "wrong_types":
        await send_raw(send, status, encode(_wrong_types(answer.body)), JSON, headers)
    elif shape == "missing_fields":
        await send_raw(send, status, encode(_missing_fields(answer.body)), JSON, headers)
    elif shape == "truncated":
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", JSON),
                    (b"content-length", str(len(real)).encode()),
                    *headers,
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": real[: len(real) // 2], "more_body": True}
        )
        await drop(scope, receive)
    else:  # pragma: no cover - rules are validated
        raise ValueError(shape)
