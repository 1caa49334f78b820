"""The Toxiproxy HTTP API on a minimal HTTP/1.1 server of our own.

Hand-rolled rather than Starlette+uvicorn so that the API shares the proxies' event
loop without a framework's signal handling and lifespan in the way, and so that the
odd corners of the real server (status codes, Go's JSON decoding errors, the 403 for
browsers) are written down in one place. Requests are handled one at a time under a
lock, which is what makes check-then-act sequences (name taken? then bind) atomic.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from fracas.harness.toxiproxy.openapi import build_openapi
from fracas.harness.toxiproxy.proxy import Proxy, ToxicSpec
from fracas.harness.toxiproxy.server import VERSION, ApiError, Server
from fracas.harness.toxiproxy.toxics import REGISTRY, Toxic

log = logging.getLogger("fracas.toxiproxy.api")

JSON = "application/json"
REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}
MAX_BODY = 16 << 20


class Response:
    __slots__ = ("status", "body", "content_type")

    def __init__(self, status: int, body: bytes = b"", content_type: str = JSON) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type


def ok(value: object, status: int = 200) -> Response:
    return Response(status, json.dumps(value).encode())


def error(status: int, message: str) -> Response:
    # Go's http.Error appends a newline.
    return Response(status, json.dumps({"error": message, "status": status}).encode() + b"\n")


# -- Go-flavoured JSON decoding -------------------------------------------------------

_GO_KIND = {
    str: "string",
    bool: "bool",
    int: "number",
    float: "number",
    list: "array",
    dict: "object",
    type(None): "null",
}


def _decode(body: bytes) -> Any:
    """The first JSON value of the body (Go's Decoder ignores what follows)."""
    text = body.decode("utf-8", errors="replace").lstrip(" \t\r\n")
    if not text:
        raise ApiError(400, "bad request body: EOF")
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text):
            raise ApiError(400, "bad request body: unexpected EOF") from None
        raise ApiError(
            400,
            f"bad request body: invalid character {text[exc.pos]!r} looking for beginning of value",
        ) from None
    return value


def _mismatch(value: object, where: str, gotype: str) -> ApiError:
    kind = _GO_KIND.get(type(value), "value")
    shown = f"number {value}" if isinstance(value, float) and gotype == "int64" else kind
    return ApiError(
        400, f"bad request body: json: cannot unmarshal {shown} into Go {where} of type {gotype}"
    )


def _object(value: object, gotype: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        if value is None:
            return {}
        raise _mismatch(value, "value", gotype)
    return value


def _field(obj: dict[str, Any], name: str) -> tuple[bool, Any]:
    """Go matches keys exactly first, then case-insensitively; null means absent."""
    if name in obj:
        value = obj[name]
        return value is not None, value
    for key, value in obj.items():
        if key.lower() == name:
            return value is not None, value
    return False, None


def _string(obj: dict[str, Any], name: str, struct: str, default: str) -> str:
    present, value = _field(obj, name)
    if not present:
        return default
    if not isinstance(value, str):
        raise _mismatch(value, f"struct field {struct}.{name}", "string")
    return value


def _bool(obj: dict[str, Any], name: str, struct: str, default: bool) -> bool:
    present, value = _field(obj, name)
    if not present:
        return default
    if not isinstance(value, bool):
        raise _mismatch(value, f"struct field {struct}.{name}", "bool")
    return value


def _float(obj: dict[str, Any], name: str, struct: str, default: float) -> float:
    present, value = _field(obj, name)
    if not present:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _mismatch(value, f"struct field {struct}.{name}", "float32")
    return float(value)


def _attributes(
    cls: type[Toxic], raw: object, base: dict[str, int | str]
) -> dict[str, int | str]:
    struct = f"{cls.__name__}.attributes"
    attrs = dict(base)
    if raw is None:
        return attrs
    if not isinstance(raw, dict):
        raise _mismatch(raw, f"struct field {struct}", cls.__name__)
    text = cls.string_attributes()
    for name in cls.attribute_names():
        present, value = _field(raw, name)
        if not present:
            continue
        if name in text:  # fracas's own toxics only: Toxiproxy's are all int64
            if not isinstance(value, str):
                raise _mismatch(value, f"struct field {struct}.{name}", "string")
            attrs[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise _mismatch(value, f"struct field {struct}.{name}", "int64")
        if not -(1 << 63) <= value < (1 << 63):
            raise ApiError(
                400,
                f"bad request body: json: cannot unmarshal number {value} "
                f"into Go struct field {struct}.{name} of type int64",
            )
        attrs[name] = value
    return attrs


def _build_toxic(cls: type[Toxic], attrs: dict[str, int | str], toxicity: float) -> Toxic:
    if not 0.0 <= toxicity <= 1.0:
        raise ApiError(400, "bad request body: toxicity must be between 0 and 1")
    impl = cls(**attrs)
    problem = impl.validate()
    if problem is not None:
        raise ApiError(400, f"bad request body: {problem}")
    return impl


# -- handlers -------------------------------------------------------------------------


class App:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.lock = asyncio.Lock()

    async def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> Response:
        if headers.get("user-agent", "").startswith("Mozilla/"):
            return Response(403, b"User agent not allowed\n", "text/plain; charset=utf-8")
        route = self._route(method, path.split("?", 1)[0])
        if isinstance(route, Response):
            return route
        handler, args = route
        async with self.lock:
            try:
                return await handler(body, *args)
            except ApiError as exc:
                return error(exc.status, exc.message)

    def _route(
        self, method: str, path: str
    ) -> Response | tuple[Callable[..., Awaitable[Response]], tuple[str, ...]]:
        parts = [unquote(p) for p in path.split("/")][1:]
        table: dict[str, Callable[..., Awaitable[Response]]]
        args: tuple[str, ...] = ()
        if parts == ["version"]:
            table = {"GET": self.version}
        elif parts == ["openapi.json"]:
            table = {"GET": self.openapi}
        elif parts == ["reset"]:
            table = {"POST": self.reset}
        elif parts == ["populate"]:
            table = {"POST": self.populate}
        elif parts == ["metrics"] and self.server.metrics_enabled:
            table = {"GET": self.metrics}
        elif parts == ["_debug", "stats"]:
            table = {"GET": self.stats}
        elif parts == ["proxies"]:
            table = {"GET": self.proxy_index, "POST": self.proxy_create}
        elif len(parts) == 2 and parts[0] == "proxies" and parts[1]:
            table = {
                "GET": self.proxy_show,
                "POST": self.proxy_update,
                "PATCH": self.proxy_update,
                "DELETE": self.proxy_delete,
            }
            args = (parts[1],)
        elif len(parts) == 3 and parts[0] == "proxies" and parts[1] and parts[2] == "toxics":
            table = {"GET": self.toxic_index, "POST": self.toxic_create}
            args = (parts[1],)
        elif (
            len(parts) == 4
            and parts[0] == "proxies"
            and parts[1]
            and parts[2] == "toxics"
            and parts[3]
        ):
            table = {
                "GET": self.toxic_show,
                "POST": self.toxic_update,
                "PATCH": self.toxic_update,
                "DELETE": self.toxic_delete,
            }
            args = (parts[1], parts[3])
        else:
            return Response(404, b"404 page not found\n", "text/plain; charset=utf-8")
        handler = table.get(method)
        if handler is None:
            return Response(405, b"", "text/plain; charset=utf-8")
        return handler, args

    # -- server-wide -----------------------------------------------------------------------
    async def version(self, body: bytes) -> Response:
        return Response(
            200, json.dumps({"version": VERSION}).encode() + b"\n", "application/json;charset=utf-8"
        )

    async def openapi(self, body: bytes) -> Response:
        """fracas: the real server has no document; this one describes the API above."""
        return ok(build_openapi(self.server.metrics_enabled))

    async def reset(self, body: bytes) -> Response:
        await self.server.reset()
        return Response(204)

    async def metrics(self, body: bytes) -> Response:
        return Response(
            200, self.server.metrics_text().encode(), "text/plain; version=0.0.4; charset=utf-8"
        )

    async def stats(self, body: bytes) -> Response:
        return ok(self.server.stats())

    # -- proxies ---------------------------------------------------------------------------
    async def proxy_index(self, body: bytes) -> Response:
        return ok({name: p.to_json() for name, p in self.server.proxies.items()})

    @staticmethod
    def _proxy_input(value: object, index: int | None = None) -> tuple[str, str, str, bool]:
        obj = _object(value, "toxiproxy.Proxy")
        name = _string(obj, "name", "Proxy", "")
        listen = _string(obj, "listen", "Proxy", "")
        upstream = _string(obj, "upstream", "Proxy", "")
        enabled = _bool(obj, "enabled", "Proxy", True)
        at = "" if index is None else f" at proxy {index}"
        if not name:
            raise ApiError(400, f"missing required field: name{at}")
        if not upstream:
            raise ApiError(400, f"missing required field: upstream{at}")
        # fracas: loopback unless asked (the real server binds every interface).
        return name, listen or "127.0.0.1:0", upstream, enabled

    async def proxy_create(self, body: bytes) -> Response:
        name, listen, upstream, enabled = self._proxy_input(_decode(body))
        proxy = Proxy(self.server, name, listen, upstream)
        await self.server.add(proxy, enabled)
        return ok(proxy.to_json(), 201)

    async def populate(self, body: bytes) -> Response:
        created: list[Proxy] = []
        try:
            value = _decode(body)
            if not isinstance(value, list):
                if value is not None:
                    raise _mismatch(
                        value,
                        "value",
                        '[]struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }',
                    )
                value = []
            inputs = [self._proxy_input(item, i + 1) for i, item in enumerate(value)]
            for name, listen, upstream, enabled in inputs:
                proxy = await self.server.add_or_replace(
                    Proxy(self.server, name, listen, upstream), enabled
                )
                created.append(proxy)
        except ApiError as exc:
            return Response(
                exc.status,
                json.dumps(
                    {
                        "error": exc.message,
                        "status": exc.status,
                        "proxies": [p.to_json() for p in created],
                    }
                ).encode(),
            )
        return ok({"proxies": [p.to_json() for p in created]}, 201)

    async def proxy_show(self, body: bytes, name: str) -> Response:
        return ok(self.server.get(name).to_json())

    async def proxy_update(self, body: bytes, name: str) -> Response:
        proxy = self.server.get(name)
        obj = _object(_decode(body), "toxiproxy.Proxy")
        listen = _string(obj, "listen", "Proxy", proxy.listen)
        upstream = _string(obj, "upstream", "Proxy", proxy.upstream)
        enabled = _bool(obj, "enabled", "Proxy", proxy.enabled)
        await self.server.update(proxy, listen, upstream, enabled)
        return ok(proxy.to_json())

    async def proxy_delete(self, body: bytes, name: str) -> Response:
        self.server.remove(name)
        return Response(204)

    # -- toxics ----------------------------------------------------------------------------
    async def toxic_index(self, body: bytes, name: str) -> Response:
        return ok([t.to_json() for t in self.server.get(name).toxics()])

    async def toxic_create(self, body: bytes, name: str) -> Response:
        proxy = self.server.get(name)
        obj = _object(_decode(body), "toxics.ToxicWrapper")
        toxic_name = _string(obj, "name", "ToxicWrapper", "")
        type_name = _string(obj, "type", "ToxicWrapper", "")
        stream = _string(obj, "stream", "ToxicWrapper", "downstream")
        toxicity = _float(obj, "toxicity", "ToxicWrapper", 1.0)
        if stream.lower() not in ("upstream", "downstream"):
            raise ApiError(400, "stream was invalid, can be either upstream or downstream")
        if not toxic_name:
            toxic_name = f"{type_name}_{stream}"
        cls = REGISTRY.get(type_name)
        if cls is None:
            raise ApiError(400, "invalid toxic type")
        if proxy.find_toxic(toxic_name) is not None:
            raise ApiError(409, "toxic already exists")
        attrs = _attributes(cls, _field(obj, "attributes")[1], {})
        impl = _build_toxic(cls, attrs, toxicity)
        spec = ToxicSpec(
            toxic_name, type_name, stream, stream.lower() == "upstream", toxicity, impl
        )
        proxy.add_toxic(spec)
        return ok(spec.to_json())

    def _toxic(self, proxy_name: str, toxic_name: str) -> tuple[Proxy, ToxicSpec]:
        proxy = self.server.get(proxy_name)
        spec = proxy.find_toxic(toxic_name)
        if spec is None:
            raise ApiError(404, "toxic not found")
        return proxy, spec

    async def toxic_show(self, body: bytes, name: str, toxic: str) -> Response:
        return ok(self._toxic(name, toxic)[1].to_json())

    async def toxic_update(self, body: bytes, name: str, toxic: str) -> Response:
        proxy, spec = self._toxic(name, toxic)
        obj = _object(_decode(body), "struct { Attributes interface {}; Toxicity float32 }")
        cls = type(spec.impl)
        attrs = _attributes(cls, _field(obj, "attributes")[1], spec.impl.attributes())
        toxicity = _float(obj, "toxicity", "ToxicWrapper", spec.toxicity)
        impl = _build_toxic(cls, attrs, toxicity)
        proxy.update_toxic(spec, impl, toxicity)
        return ok(spec.to_json())

    async def toxic_delete(self, body: bytes, name: str, toxic: str) -> Response:
        proxy, spec = self._toxic(name, toxic)
        proxy.remove_toxic(spec)
        return Response(204)


# -- HTTP/1.1 ------------------------------------------------------------------------


class _BadFraming(Exception):
    """A request whose body cannot be read: answered, then the connection is closed."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


#: Go's net/http takes request lines and headers up to 1 MB (MaxHeaderBytes); so do we.
MAX_LINE = 1 << 20


async def _line(reader: asyncio.StreamReader) -> bytes:
    """One line of the request head; a longer one than ``MAX_LINE`` is a 431, as in Go."""
    try:
        return await reader.readline()
    except ValueError:  # asyncio's LimitOverrunError, re-raised by readline
        raise _BadFraming(error(431, "request line or header too long")) from None


def _length(text: str | bytes, base: int) -> int:
    """A Content-Length (base 10) or chunk size (base 16): digits only, as RFC 9112 says
    (``int`` alone would take ``-1``, ``+5`` and ``1_0``)."""
    raw = text.decode("latin-1") if isinstance(text, bytes) else text
    digits = "0123456789abcdefABCDEF"[: 10 if base == 10 else 22]
    if not raw or len(raw) > 16 or any(c not in digits for c in raw):
        shown = raw[:40]
        raise _BadFraming(error(400, f"bad request framing: {shown!r} is not a length"))
    return int(raw, base)


class HttpServer:
    """Enough HTTP/1.1 for API clients: keep-alive, Content-Length and chunked bodies."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.server: asyncio.AbstractServer | None = None

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(
            self._serve, host, port, reuse_address=True, limit=MAX_LINE
        )

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    request = await self._read(reader)
                except _BadFraming as exc:
                    await self._send(writer, exc.response, False)
                    return
                if request is None:
                    return
                method, target, version, headers, body = request
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                try:
                    response = await self.app.handle(method, target, headers, body)
                except Exception as exc:  # noqa: BLE001 - answer rather than hang up
                    log.exception("handler failed")
                    response = error(500, str(exc))
                await self._send(writer, response, keep)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _read(
        self, reader: asyncio.StreamReader
    ) -> tuple[str, str, str, dict[str, str], bytes] | None:
        """One request, or None when the client closed between requests."""
        line = b"\r\n"
        while not line.strip():
            line = await _line(reader)
            if not line:
                return None
        try:
            method, target, version = line.decode("latin-1").split()
        except ValueError:
            raise _BadFraming(Response(400, b"bad request line\n", "text/plain")) from None
        headers: dict[str, str] = {}
        while True:
            raw = await _line(reader)
            if raw in (b"\r\n", b"\n", b""):
                break
            key, _, value = raw.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        return method, target, version, headers, await self._body(reader, headers)

    @staticmethod
    async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        """The request body; a length or chunk size that is not a number (or too big)
        is refused with an answer and the connection closed, never a traceback."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            total = 0
            while True:
                size = _length((await _line(reader)).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                total += size
                if total > MAX_BODY:
                    raise _BadFraming(Response(413, b"", "text/plain"))
                parts.append(await reader.readexactly(size))
                await reader.readline()
        length = _length(headers.get("content-length", "0") or b"0", 10)
        if length > MAX_BODY:
            raise _BadFraming(Response(413, b"", "text/plain"))
        return await reader.readexactly(length) if length else b""

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, response: Response, keep: bool) -> None:
        head = [f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Status')}"]
        if response.status != 204:
            head.append(f"Content-Type: {response.content_type}")
            head.append(f"Content-Length: {len(response.body)}")
        if not keep:
            head.append("Connection: close")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if response.status != 204:
            writer.write(response.body)
        await writer.drain()
