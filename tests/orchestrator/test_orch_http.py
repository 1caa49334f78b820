"""fracas.orchestrator.http against a real socket server that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fracas.harness.kit.net import free_port
from fracas.orchestrator import validate
from fracas.orchestrator.clients import RetryPolicy, ServiceClient
from fracas.orchestrator.http import AnswerTimeout, Broken, ConnectFailed, HttpClient

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[bool]]


def answer(status: int, body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    body = await reader.readexactly(length) if length else b""
    return head + body


async def serve(behaviours: list[Behaviour], scenario: Callable[[str], Awaitable[Any]]) -> Any:
    """Run `scenario(url)` against a server answering the n-th request with behaviours[n]."""
    seen: list[bytes] = []
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                request = await read_request(reader)
                seen.append(request)
                behaviour = behaviours[min(len(seen), len(behaviours)) - 1]
                if not await behaviour(reader, writer, request):
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await scenario(f"http://127.0.0.1:{port}")
    finally:
        server.close()
    return result, seen, connections


def ok(body: dict[str, Any], extra: str = "") -> Behaviour:
    async def b(r: Any, w: asyncio.StreamWriter, req: bytes) -> bool:
        w.write(answer(200, json.dumps(body).encode(), extra))
        return True

    return b


async def drop(r: Any, w: asyncio.StreamWriter, req: bytes) -> bool:
    return False


async def truncated(r: Any, w: asyncio.StreamWriter, req: bytes) -> bool:
    w.write(answer(201, b'{"payment_id": "pay-1", "order_id": "o1"}')[:-10])
    await w.drain()
    return False


async def silent(r: Any, w: asyncio.StreamWriter, req: bytes) -> bool:
    await asyncio.sleep(2)
    return False


async def garbage(r: Any, w: asyncio.StreamWriter, req: bytes) -> bool:
    w.write(b"NOT HTTP AT ALL\r\n\r\n")
    await w.drain()
    return False


def get(url: str, timeout: float = 0.5, client: HttpClient | None = None) -> Awaitable[Any]:
    c = client or HttpClient(url, 4)
    return c.request(
        "POST", "/payments", headers={"Idempotency-Key": "k1"}, content=b'{"a": 1}',
        params={"order_id": "o 1"}, timeout=timeout,
    )  # fmt: skip


def test_keep_alive_reuses_one_connection_and_sends_one_request_per_call() -> None:
    async def scenario(url: str) -> list[Any]:
        client = HttpClient(url, 4)
        out = [await get(url, client=client) for _ in range(5)]
        await client.aclose()
        return out

    results, seen, connections = asyncio.run(serve([ok({"x": 1})], scenario))
    assert [r.status for r in results] == [200] * 5
    assert json.loads(results[0].content) == {"x": 1}
    assert connections == 1 and len(seen) == 5
    first = seen[0].decode()
    assert first.startswith("POST /payments?order_id=o+1 HTTP/1.1\r\n")
    assert "Idempotency-Key: k1" in first and first.endswith('{"a": 1}')


@pytest.mark.parametrize(
    "behaviour,error",
    [(drop, Broken), (truncated, Broken), (silent, AnswerTimeout), (garbage, Broken)],
    ids=["drop", "truncated", "timeout", "garbage"],
)
def test_failures_are_classified(behaviour: Behaviour, error: type[Exception]) -> None:
    async def scenario(url: str) -> Exception | None:
        try:
            await get(url, timeout=0.3)
        except Exception as exc:  # noqa: BLE001
            return exc
        return None

    exc, _, _ = asyncio.run(serve([behaviour], scenario))
    assert isinstance(exc, error), exc


def test_refused_connection_is_connect_failed() -> None:
    async def scenario() -> Exception | None:
        try:
            await get(f"http://127.0.0.1:{free_port()}")
        except Exception as exc:  # noqa: BLE001
            return exc
        return None

    assert isinstance(asyncio.run(scenario()), ConnectFailed)


PAYMENT = {
    "payment_id": "pay-1", "order_id": "o1", "amount_cents": 100, "currency": "EUR",
    "status": "captured", "refunded_cents": 0,
}  # fmt: skip


def test_service_client_on_the_fast_transport_retries_through_faults() -> None:
    """drop, truncated, 503 with Retry-After, then the answer: same key every time."""

    async def unavailable(r: Any, w: asyncio.StreamWriter, req: bytes) -> bool:
        w.write(answer(503, b"{}", "Retry-After: 0.1\r\n"))
        return True

    async def scenario(url: str) -> Any:
        client = ServiceClient("payment", url, timeout=0.5, rng=random.Random(1), fast=True)
        policy = RetryPolicy(attempts=6, budget=5, backoff_base=0.001, backoff_cap=0.01,
                             retry_after_cap=0.5)  # fmt: skip
        try:
            return await client.call(
                "POST", "/payments", step="capture", policy=policy,
                validator=validate.payment("o1", 100), correlation_id="o1",
                json_body={"order_id": "o1"}, idempotency_key="o1:capture",
            )  # fmt: skip
        finally:
            await client.aclose()

    outcome, seen, _ = asyncio.run(
        serve([drop, truncated, unavailable, ok(PAYMENT)], scenario)
    )
    assert outcome.kind == "ok" and outcome.attempts == 4 and outcome.ambiguous
    assert outcome.duration >= 0.1
    assert all(b"Idempotency-Key: o1:capture" in r for r in seen)
    assert all(b"X-Correlation-ID: o1" in r for r in seen)
