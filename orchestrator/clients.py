"""Calling a service: one attempt, many attempts, and what the answers mean.

The saga never sees an exception or a raw status code. It sees an :class:`Outcome`:

* ``ok`` - a 2xx whose body passed its validator: the effect happened, here it is;
* ``refused`` - a definite 4xx refusal carried in a valid problem body (card declined,
  out of stock, undeliverable, not found): nothing happened, do not retry;
* ``unknown`` - the retry budget ran out on transport errors, timeouts, 5xx, 429 or
  unreadable answers. ``ambiguous`` says whether any attempt might have made an effect
  we never heard about, in which case the caller must look it up before deciding.

Every attempt of one call carries the same ``Idempotency-Key``, so a retry after a lost
answer replays the stored effect instead of making a second one.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

from fracas.orchestrator import validate
from fracas.orchestrator.http import AnswerTimeout, Broken, ConnectFailed, HttpClient, RawResponse
from fracas.orchestrator.validate import Validator

# The 4xx problem types that are a service's definite "no, and nothing was done".
# Any other 4xx (say an injected "injected-fault" 409 sent *after* the effect was
# committed) proves nothing about the effect, so it is retried like a 5xx.
DEFINITE_PROBLEMS = frozenset(
    {
        "card-declined", "out-of-stock", "undeliverable", "unknown-sku", "not-found",
        "refund-exceeds-capture", "idempotency-key-reused", "invalid-request",
        "malformed-request", "method-not-allowed", "request-too-large",
    }
)  # fmt: skip


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    budget: float
    backoff_base: float
    backoff_cap: float
    retry_after_cap: float

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential with 'equal jitter': half fixed, half random, never above the cap."""
        ceiling = min(self.backoff_cap, self.backoff_base * float(2 ** (attempt - 1)))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass
class Outcome:
    kind: Literal["ok", "refused", "unknown"]
    status: int | None = None
    body: Any = None
    problem: str | None = None
    attempts: int = 0
    ambiguous: bool = False
    error: str | None = None
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


@dataclass
class _Attempt:
    """One try: either final (ok/refused) or retryable with a reason."""

    final: Outcome | None
    error: str = ""
    ambiguous: bool = False
    retry_after: float | None = None


RetryHook = Callable[[str, str, str], None]  # service, step, reason


class HttpxTransport:
    """The reference transport (httpx); tests mock it with respx."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        max_connections: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, pool=max(timeout * 10, 10.0)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
            http1=True,
            http2=False,
            trust_env=False,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        content: bytes | None,
        params: dict[str, str] | None,
        timeout: float,
    ) -> RawResponse:
        try:
            r = await self.http.request(
                method, path, headers=headers, content=content, params=params
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ConnectFailed(type(exc).__name__) from exc
        except httpx.TimeoutException as exc:
            raise AnswerTimeout(type(exc).__name__) from exc
        except httpx.TransportError as exc:
            raise Broken(type(exc).__name__) from exc
        return RawResponse(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content)

    async def aclose(self) -> None:
        await self.http.aclose()


class FastTransport:
    """fracas.orchestrator.http: one write per request, httptools parsing (see its docstring)."""

    def __init__(self, base_url: str, max_connections: int) -> None:
        self.http = HttpClient(base_url, max_connections)

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        content: bytes | None,
        params: dict[str, str] | None,
        timeout: float,
    ) -> RawResponse:
        return await self.http.request(
            method, path, headers=headers, content=content, params=params, timeout=timeout
        )

    async def aclose(self) -> None:
        await self.http.aclose()


class Transport(Protocol):
    """What the call layer needs of a transport: one exchange, and failures said as
    ConnectFailed (never sent), AnswerTimeout or Broken (both ambiguous).

    Not ``httpx.AsyncBaseTransport``: that was tried, and building an httpx Request and
    Response around every call made the orchestrator 1.8x as costly per order (3.25 ms
    against 5.9 ms of CPU; 208 against 124 orders/s offered 300/s through the proxy,
    ``bench/orchestrator.py --seconds 15 --rate 300 --via-proxy``, load 4 to 6). httpx
    stays one implementation of it, the one tests mock with respx."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        content: bytes | None,
        params: dict[str, str] | None,
        timeout: float,
    ) -> RawResponse: ...

    async def aclose(self) -> None: ...


class ServiceClient:
    def __init__(
        self,
        service: str,
        base_url: str,
        timeout: float,
        max_connections: int = 64,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        on_retry: RetryHook | None = None,
        fast: bool = False,
    ) -> None:
        self.service = service
        self.timeout = timeout
        self.transport: Transport = (
            FastTransport(base_url, max_connections)
            if fast
            else HttpxTransport(base_url, timeout, max_connections, transport)
        )
        self.rng = rng or random.Random()
        self.on_retry = on_retry

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        step: str,
        policy: RetryPolicy,
        validator: Validator,
        correlation_id: str,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Attempt until a definite answer or the policy's budget is spent."""
        started = time.monotonic()
        deadline = started + policy.budget
        headers = {"X-Correlation-ID": correlation_id}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        content = None if json_body is None else json.dumps(json_body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        ambiguous = False
        last_error = ""
        attempt = 0
        while True:
            attempt += 1
            result = await self._attempt(method, path, headers, content, params, validator)
            if result.final is not None:
                result.final.attempts = attempt
                result.final.ambiguous = ambiguous
                result.final.duration = time.monotonic() - started
                return result.final
            ambiguous = ambiguous or result.ambiguous
            last_error = result.error
            delay = policy.backoff(attempt, self.rng)
            if result.retry_after is not None:
                delay = max(delay, min(result.retry_after, policy.retry_after_cap))
            if attempt >= policy.attempts or time.monotonic() + delay > deadline:
                return Outcome(
                    "unknown",
                    attempts=attempt,
                    ambiguous=ambiguous,
                    error=last_error,
                    duration=time.monotonic() - started,
                )
            if self.on_retry is not None:
                self.on_retry(self.service, step, last_error.split(":", 1)[0])
            await asyncio.sleep(delay)

    async def _attempt(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        content: bytes | None,
        params: dict[str, str] | None,
        validator: Validator,
    ) -> _Attempt:
        try:
            response = await self.transport.request(
                method, path, headers=headers, content=content, params=params,
                timeout=self.timeout,
            )  # fmt: skip
        except ConnectFailed as exc:
            # The request never left: no effect can have happened.
            return _Attempt(None, f"connect: {exc}", ambiguous=False)
        except AnswerTimeout as exc:
            return _Attempt(None, f"timeout: {exc}", ambiguous=True)
        except Broken as exc:
            # Dropped or reset mid-exchange, or a garbled status line: it may have landed.
            return _Attempt(None, f"transport: {exc}", ambiguous=True)

        status = response.status
        body, readable = _decode(response.content)
        if status == 429 or status >= 500:
            return _Attempt(
                None,
                f"status: {status}",
                ambiguous=True,
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
        if 200 <= status < 300:
            err = validator(body) if readable else "unreadable body"
            if err is None:
                return _Attempt(Outcome("ok", status=status, body=body))
            return _Attempt(None, f"malformed: {status} {err}", ambiguous=True)
        if 400 <= status < 500:
            err = validate.problem(body) if readable else "unreadable body"
            if err is not None:
                return _Attempt(None, f"malformed: {status} problem {err}", ambiguous=True)
            ptype = str(body["type"]).rsplit("/", 1)[-1]
            if status == 408 or ptype not in DEFINITE_PROBLEMS:
                return _Attempt(
                    None,
                    f"status: {status} {ptype}",
                    ambiguous=True,
                    retry_after=_retry_after(response.headers.get("retry-after")),
                )
            return _Attempt(Outcome("refused", status=status, body=body, problem=ptype))
        # 1xx/3xx: not something the contract ever answers.
        return _Attempt(None, f"malformed: unexpected status {status}", ambiguous=True)


def _decode(content: bytes) -> tuple[Any, bool]:
    try:
        return json.loads(content), True
    except (ValueError, UnicodeDecodeError):
        return None, False


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
