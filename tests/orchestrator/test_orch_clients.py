"""The call layer's retry, timeout and validation logic, against respx-mocked services."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
import respx

from fracas.orchestrator import validate
from fracas.orchestrator.clients import RetryPolicy, ServiceClient, _retry_after

BASE = "http://payment.test"
POLICY = RetryPolicy(
    attempts=5, budget=5.0, backoff_base=0.001, backoff_cap=0.01, retry_after_cap=0.05
)
PAYMENT = {
    "payment_id": "pay-1",
    "order_id": "o1",
    "amount_cents": 100,
    "currency": "EUR",
    "status": "captured",
    "refunded_cents": 0,
}


def problem(status: int, ptype: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": ptype, "title": "x", "status": status, "detail": ""},
        headers={"Content-Type": "application/problem+json"},
    )


async def capture(client: ServiceClient, policy: RetryPolicy = POLICY):
    return await client.call(
        "POST",
        "/payments",
        step="capture",
        policy=policy,
        validator=validate.payment("o1", 100),
        correlation_id="o1",
        json_body={"order_id": "o1", "amount_cents": 100},
        idempotency_key="o1:capture",
    )


@pytest.fixture
def client():
    retries: list[tuple[str, str, str]] = []
    c = ServiceClient(
        "payment", BASE, timeout=0.2, rng=random.Random(1), on_retry=lambda *a: retries.append(a)
    )
    c.retries = retries  # type: ignore[attr-defined]
    return c


def run(coro):
    return asyncio.run(coro)


@respx.mock
def test_success_first_time_sends_key_and_correlation(client):
    route = respx.post(f"{BASE}/payments").mock(return_value=httpx.Response(201, json=PAYMENT))
    out = run(capture(client))
    assert out.kind == "ok" and out.body["payment_id"] == "pay-1" and out.attempts == 1
    req = route.calls.last.request
    assert req.headers["Idempotency-Key"] == "o1:capture"
    assert req.headers["X-Correlation-ID"] == "o1"


@respx.mock
def test_retries_5xx_and_dropped_connection_with_the_same_key(client):
    route = respx.post(f"{BASE}/payments").mock(
        side_effect=[
            httpx.Response(503, text="busy"),
            httpx.RemoteProtocolError("dropped"),
            httpx.Response(201, json=PAYMENT),
        ]
    )
    out = run(capture(client))
    assert out.kind == "ok" and out.attempts == 3 and out.ambiguous
    keys = {c.request.headers["Idempotency-Key"] for c in route.calls}
    assert keys == {"o1:capture"} and route.call_count == 3
    assert [r[2] for r in client.retries] == ["status", "transport"]


@respx.mock
def test_timeout_is_ambiguous_and_retried(client):
    route = respx.post(f"{BASE}/payments").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(201, json=PAYMENT)]
    )
    out = run(capture(client))
    assert out.kind == "ok" and out.ambiguous and route.call_count == 2


def test_real_read_timeout_against_a_silent_server():
    """A server that accepts and never answers: each attempt times out, ambiguously."""

    async def scenario():
        connections = 0

        async def silent(reader, writer):
            nonlocal connections
            connections += 1
            await reader.read(65536)
            await asyncio.sleep(5)

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = ServiceClient("payment", f"http://127.0.0.1:{port}", timeout=0.2)
        policy = RetryPolicy(attempts=2, budget=5.0, backoff_base=0.001, backoff_cap=0.01,
                             retry_after_cap=0.05)  # fmt: skip
        try:
            out = await capture(client, policy)
        finally:
            await client.aclose()
            server.close()
        return out, connections

    out, connections = asyncio.run(scenario())
    assert out.kind == "unknown" and out.ambiguous and out.attempts == 2
    assert "timeout" in (out.error or "") and out.duration >= 0.4
    assert connections >= 1


@respx.mock
def test_connect_error_is_not_ambiguous(client):
    respx.post(f"{BASE}/payments").mock(side_effect=httpx.ConnectError("refused"))
    out = run(capture(client))
    assert out.kind == "unknown" and not out.ambiguous and out.attempts == POLICY.attempts


@respx.mock
def test_budget_exhausted_gives_unknown(client):
    respx.post(f"{BASE}/payments").mock(return_value=httpx.Response(500, text="x"))
    out = run(capture(client))
    assert out.kind == "unknown" and out.ambiguous and out.attempts == 5
    assert "500" in (out.error or "")


@respx.mock
def test_time_budget_stops_before_attempts(client):
    respx.post(f"{BASE}/payments").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "10"}, json={})
    )
    policy = RetryPolicy(attempts=100, budget=0.3, backoff_base=0.001, backoff_cap=0.01,
                         retry_after_cap=0.1)  # fmt: skip
    out = run(capture(client, policy))
    assert out.kind == "unknown" and 2 <= out.attempts <= 4


@respx.mock
def test_429_honours_retry_after(client):
    respx.post(f"{BASE}/payments").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "0.2"}, json={}),
            httpx.Response(201, json=PAYMENT),
        ]
    )
    policy = RetryPolicy(attempts=3, budget=5.0, backoff_base=0.001, backoff_cap=0.001,
                         retry_after_cap=1.0)  # fmt: skip
    out = run(capture(client, policy))
    assert out.kind == "ok" and out.duration >= 0.2


@pytest.mark.parametrize(
    "status,ptype", [(402, "card-declined"), (409, "out-of-stock"), (422, "undeliverable")]
)
@respx.mock
def test_business_refusals_are_not_retried(client, status, ptype):
    route = respx.post(f"{BASE}/payments").mock(return_value=problem(status, ptype))
    out = run(capture(client))
    assert out.kind == "refused" and out.problem == ptype and route.call_count == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(201, content=b'{"payment_id": "pay-1",}'),
        httpx.Response(201, content=b'{"payment_id": "pa'),
        httpx.Response(201, content=b""),
        httpx.Response(201, content=b"<html><body>201</body></html>"),
        httpx.Response(201, json={k: str(v) for k, v in PAYMENT.items()}),
        httpx.Response(201, json={"amount_cents": 100, "currency": "EUR"}),
        httpx.Response(201, json={**PAYMENT, "amount_cents": 999}),
        httpx.Response(201, json={**PAYMENT, "order_id": "other"}),
        httpx.Response(201, json={**PAYMENT, "amount_cents": True}),
        httpx.Response(402, content=b"<html>declined</html>"),
        httpx.Response(402, json={"title": "declined"}),
    ],
    ids=[
        "invalid_json", "truncated", "empty", "html", "wrong_types", "missing_fields",
        "wrong_amount", "wrong_order", "bool_amount", "html_refusal", "problem_missing_fields",
    ],
)  # fmt: skip
@respx.mock
def test_malformed_answers_are_unknown_never_success(client, response):
    route = respx.post(f"{BASE}/payments").mock(return_value=response)
    out = run(capture(client))
    assert out.kind == "unknown" and out.ambiguous
    assert route.call_count == POLICY.attempts
    assert "malformed" in (out.error or "")


@respx.mock
def test_malformed_then_replay_succeeds(client):
    respx.post(f"{BASE}/payments").mock(
        side_effect=[
            httpx.Response(201, content=b""),
            httpx.Response(201, json=PAYMENT, headers={"Idempotent-Replayed": "true"}),
        ]
    )
    out = run(capture(client))
    assert out.kind == "ok" and out.attempts == 2


def test_backoff_is_exponential_jittered_and_capped():
    policy = RetryPolicy(attempts=10, budget=100, backoff_base=0.1, backoff_cap=1.0,
                         retry_after_cap=1.0)  # fmt: skip
    rng = random.Random(3)
    delays = [policy.backoff(n, rng) for n in range(1, 9)]
    assert 0.05 <= delays[0] <= 0.1
    assert 0.1 <= delays[1] <= 0.2
    assert all(d <= 1.0 for d in delays)
    assert all(0.5 <= d for d in delays[4:])
    again = [policy.backoff(n, random.Random(3)) for n in range(1, 9)]
    assert again[0] == delays[0]


def test_retry_after_parsing():
    assert _retry_after("3") == 3.0
    assert _retry_after("0.5") == 0.5
    assert _retry_after(None) is None
    assert _retry_after("garbage") is None
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@respx.mock
def test_an_injected_4xx_proves_nothing_and_is_retried(client):
    route = respx.post(f"{BASE}/payments").mock(
        side_effect=[problem(409, "injected-fault"), httpx.Response(201, json=PAYMENT)]
    )
    out = run(capture(client))
    assert out.kind == "ok" and out.ambiguous and route.call_count == 2
