"""A small HTTP/1.1 client on asyncio protocols and httptools, for the hot path.

Profiling the happy path showed httpx (with httpcore, h11 and anyio under it) costing
most of the orchestrator's CPU: five layers of Python per request and two socket
writes (headers, then body). This client writes each request with one ``write`` and
parses answers with httptools' C parser, on keep-alive connections pooled per service.

It only needs to speak to the fakes (or a proxy in front of them): JSON bodies with a
Content-Length, no redirects, no TLS, no compression. What it does need to get right is
*how* an attempt fails, because that decides whether the outcome is ambiguous:

* :class:`ConnectFailed` - no connection, so the request was never sent;
* :class:`AnswerTimeout` - sent, no complete answer in time (ambiguous);
* :class:`Broken` - the connection closed or garbled the answer mid-way (ambiguous).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import httptools

# uvicorn closes idle keep-alive connections after 5 s; never reuse one that close.
_IDLE_REUSE = 4.0


class HttpError(Exception):
    """Base of the ways one attempt can fail."""


class ConnectFailed(HttpError):
    pass


class AnswerTimeout(HttpError):
    pass


class Broken(HttpError):
    pass


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    content: bytes


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.last_used = time.monotonic()
        self._waiter: asyncio.Future[tuple[RawResponse, bool]] | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []

    # -- asyncio.Protocol --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but quack like one.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._parser is None:
            self._fail(Broken("data with no request outstanding"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(Broken(f"unparseable answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(Broken("connection closed before a complete answer"))

    # -- httptools callbacks -----------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        waiter, parser = self._waiter, self._parser
        if waiter is None or parser is None or waiter.done():
            return
        response = RawResponse(parser.get_status_code(), self._headers, b"".join(self._body))
        keep = parser.should_keep_alive()
        self._parser = None
        waiter.set_result((response, keep))

    # -- use ---------------------------------------------------------------------------
    def _fail(self, exc: HttpError) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.close()

    def send(self, data: bytes) -> asyncio.Future[tuple[RawResponse, bool]]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._parser = httptools.HttpResponseParser(self)
        self._headers = {}
        self._body = []
        self.transport.write(data)
        return self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class HttpClient:
    """Keep-alive connections to one origin, at most `max_connections` at a time."""

    def __init__(self, base_url: str, max_connections: int = 64) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http://host:port URLs are supported, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self._host_header = parts.netloc.encode("latin-1")
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(max_connections)

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
        target = self.prefix + path + ("?" + urlencode(params) if params else "")
        head = [f"{method} {target} HTTP/1.1".encode("latin-1"), b"Host: " + self._host_header]
        for name, value in headers.items():
            head.append(f"{name}: {value}".encode("latin-1"))
        body = content or b""
        if content is not None or method in ("POST", "PUT", "PATCH"):
            head.append(b"Content-Length: " + str(len(body)).encode())
        data = b"\r\n".join(head) + b"\r\n\r\n" + body

        async with self._slots:
            conn = self._take_idle()
            if conn is None:
                conn = await self._connect(timeout)
            try:
                async with asyncio.timeout(timeout):
                    response, keep = await conn.send(data)
            except TimeoutError:
                conn.close()
                raise AnswerTimeout(f"no answer within {timeout:.2f}s") from None
            except BaseException:
                conn.close()
                raise
            if keep and not conn.closed:
                conn.last_used = time.monotonic()
                self._idle.append(conn)
            else:
                conn.close()
            return response

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.last_used < _IDLE_REUSE:
                return conn
            conn.close()
        return None

    async def _connect(self, timeout: float) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(_Connection, self.host, self.port)
        except TimeoutError:
            raise ConnectFailed(f"connect timed out after {timeout:.2f}s") from None
        except OSError as exc:
            raise ConnectFailed(f"{type(exc).__name__}: {exc}") from None
        return conn

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()
