"""One client for any Toxiproxy-compatible server: fracas's embedded one, a binary, a container.

``toxiproxy-python`` does the calls it does well (list proxies and toxics, add and remove a
toxic, delete, enable and disable a proxy). What it lacks sits beside it in a small typed
layer over httpx, not in a fork: one proxy by name, creating a proxy with a clean error when
the bind fails (the library turns a 500 into a ``KeyError``), server-side populate, toxic
update, reset and version. Every failure, from either path, becomes a ``ToxiproxyError``
carrying the HTTP status and the server's ``error`` text, so a fault that did not land is
never silent.

The library keeps its server address in class attributes (``APIConsumer.host``/``port``),
so each library call binds the address under one lock; two clients for two servers in one
process stay correct, at the cost of serialising library calls (they are millisecond
loopback calls, so that costs nothing that matters).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import toxiproxy as _lib
from toxiproxy import api as _lib_api
from toxiproxy import exceptions as _lib_exc

from fracas.harness.kit.waiting import DeadlineExceeded, wait_until

T = TypeVar("T")

# The library's address lives in class attributes; one lock keeps concurrent clients honest.
_LIB_LOCK = threading.Lock()


class ToxiproxyError(RuntimeError):
    """The server refused a call (or could not be reached); says which call and why."""

    def __init__(self, status: int | None, error: str, method: str = "", path: str = "") -> None:
        self.status = status
        self.error = error
        self.method = method
        self.path = path
        where = f"{method} {path}: " if method else ""
        code = f"{status} " if status is not None else ""
        super().__init__(f"toxiproxy {where}{code}{error}")


class ToxiproxyUnreachable(ToxiproxyError):
    """No server answered at the address (not started, crashed, wrong URL)."""


@dataclass(frozen=True)
class Toxic:
    """A toxic as the server reports it."""

    name: str
    type: str
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Toxic:
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            stream=str(data.get("stream", "downstream")),
            toxicity=float(data.get("toxicity", 1.0)),
            attributes=dict(data.get("attributes") or {}),
        )


@dataclass(frozen=True)
class Proxy:
    """A proxy as the server reports it; ``listen`` is the bound address."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True
    toxics: tuple[Toxic, ...] = ()

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proxy:
        return cls(
            name=str(data["name"]),
            listen=str(data["listen"]),
            upstream=str(data["upstream"]),
            enabled=bool(data.get("enabled", True)),
            toxics=tuple(Toxic.from_json(t) for t in data.get("toxics") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
        }


def _error_text(body: bytes | str) -> tuple[str, int | None]:
    """The server's ``error`` text and ``status`` from an error body, or the raw body."""
    raw = body.decode(errors="replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.strip() or "(empty body)", None
    if isinstance(data, dict) and "error" in data:
        status = data.get("status")
        return str(data["error"]), status if isinstance(status, int) else None
    return raw.strip(), None


_LIB_STATUS: dict[type[Exception], int] = {
    _lib_exc.ProxyExists: 409,
    _lib_exc.NotFound: 404,
    _lib_exc.InvalidToxic: 400,
}


class ToxiClient:
    """Talks to one Toxiproxy-compatible server at ``base_url``.

    Proxies this client creates are remembered in ``created`` so a backend that does not
    own the server (``url``) can delete exactly what fracas made and nothing else.
    """

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        parts = urlsplit(base_url if "://" in base_url else f"http://{base_url}")
        if not parts.hostname or not parts.port:
            raise ValueError(
                f"toxiproxy base URL must look like http://host:port, got {base_url!r}"
            )
        self.base_url = f"{parts.scheme}://{parts.hostname}:{parts.port}"
        self._host = parts.hostname
        self._port = parts.port
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, trust_env=False)
        self.created: set[str] = set()

    # -- plumbing --------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ToxiClient {self.base_url}>"

    def _request(self, method: str, path: str, body: object = None) -> httpx.Response:
        try:
            if body is None:
                resp = self._http.request(method, path)
            else:
                resp = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ToxiproxyUnreachable(
                None,
                f"no answer from {self.base_url} ({exc.__class__.__name__}: {exc})",
                method,
                path,
            ) from exc
        if resp.status_code >= 400:
            error, _ = _error_text(resp.content)
            raise ToxiproxyError(resp.status_code, error, method, path)
        return resp

    def _json(self, method: str, path: str, body: object = None) -> Any:
        resp = self._request(method, path, body)
        try:
            return resp.json()
        except ValueError:
            raise ToxiproxyError(
                resp.status_code, f"answer is not JSON: {resp.text[:200]!r}", method, path
            ) from None

    def _lib(self, what: str, call: Callable[[], T]) -> T:
        """Run a toxiproxy-python call against this server, with its errors made typed.

        The library sets no timeouts, so a server that accepts but never answers blocks
        here; the servers fracas starts are its own children on loopback, never paused.
        """
        method, _, path = what.partition(" ")
        with _LIB_LOCK:
            _lib_api.APIConsumer.host = self._host
            _lib_api.APIConsumer.port = self._port
            try:
                return call()
            except tuple(_LIB_STATUS) as exc:
                body = exc.args[0] if exc.args else b""
                error, status = _error_text(body if isinstance(body, bytes | str) else str(body))
                raise ToxiproxyError(
                    status or _LIB_STATUS[type(exc)], error, method, path
                ) from None
            except OSError as exc:  # requests.RequestException is an OSError
                raise ToxiproxyUnreachable(
                    None, f"no answer from {self.base_url} ({exc.__class__.__name__})", method, path
                ) from exc

    @staticmethod
    def _q(name: str) -> str:
        return quote(name, safe="")

    # -- server ----------------------------------------------------------------------
    def version(self) -> str:
        """The server's version string (``GET /version``)."""
        resp = self._request("GET", "/version")
        try:
            data = resp.json()
        except ValueError:
            return resp.text.strip()  # toxiproxy before 2.6 answered plain text
        return str(data.get("version", "")) if isinstance(data, dict) else str(data)

    def is_up(self) -> bool:
        try:
            self.version()
        except ToxiproxyError:
            return False
        return True

    def wait_up(self, timeout: float = 10.0) -> None:
        """Wait until the server answers ``/version``."""
        try:
            wait_until(self.is_up, timeout, interval=0.02, what=f"toxiproxy at {self.base_url}")
        except DeadlineExceeded:
            raise ToxiproxyUnreachable(
                None, f"no server answered within {timeout:.1f}s", "GET", "/version"
            ) from None

    def reset(self) -> None:
        """Enable every proxy and remove every toxic (on the whole server)."""
        self._request("POST", "/reset")

    # -- proxies ---------------------------------------------------------------------
    def proxies(self) -> dict[str, Proxy]:
        """Every proxy on the server, by name (toxics not included; see ``proxy``)."""
        found = self._lib("GET /proxies", lambda: _lib.Toxiproxy().proxies())
        return {
            name: Proxy(name=p.name, listen=p.listen, upstream=p.upstream, enabled=p.enabled)
            for name, p in found.items()
        }

    def with_toxics(self) -> list[str]:
        """The names of the proxies that have a toxic now, from one GET /proxies (whose
        answer lists each proxy's toxics, on toxiproxy as on the embedded server)."""
        data = self._json("GET", "/proxies")
        return sorted(n for n, p in dict(data).items() if isinstance(p, dict) and p.get("toxics"))

    def proxy(self, name: str) -> Proxy:
        """One proxy with its toxics; ``ToxiproxyError`` 404 when there is none."""
        return Proxy.from_json(self._json("GET", f"/proxies/{self._q(name)}"))

    def create_proxy(
        self, name: str, upstream: str, listen: str = "127.0.0.1:0", enabled: bool = True
    ) -> Proxy:
        """Create a proxy; a bind failure comes back as a 500 ``ToxiproxyError``."""
        body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
        proxy = Proxy.from_json(self._json("POST", "/proxies", body))
        self.created.add(proxy.name)
        return proxy

    def populate(self, proxies: Sequence[Mapping[str, Any]]) -> list[Proxy]:
        """Create (or replace) many proxies in one server-side call.

        On a failure part way, the proxies the server did create are still recorded in
        ``created`` so they are cleaned up, and the error is raised.
        """
        body = [dict(p) for p in proxies]
        try:
            resp = self._http.post("/populate", json=body)
        except httpx.HTTPError as exc:
            raise ToxiproxyUnreachable(
                None,
                f"no answer from {self.base_url} ({exc.__class__.__name__}: {exc})",
                "POST",
                "/populate",
            ) from exc
        try:
            data = resp.json()
        except ValueError:
            data = {}
        made = [
            Proxy.from_json(p)
            for p in (data.get("proxies") or [] if isinstance(data, dict) else [])
        ]
        self.created.update(p.name for p in made)
        if resp.status_code >= 400:
            error, _ = _error_text(resp.content)
            raise ToxiproxyError(resp.status_code, error, "POST", "/populate")
        return made

    def update_proxy(
        self,
        name: str,
        *,
        listen: str | None = None,
        upstream: str | None = None,
        enabled: bool | None = None,
    ) -> Proxy:
        """Change any of listen, upstream, enabled; absent ones keep their value."""
        body: dict[str, Any] = {}
        if listen is not None:
            body["listen"] = listen
        if upstream is not None:
            body["upstream"] = upstream
        if enabled is not None:
            body["enabled"] = enabled
        return Proxy.from_json(self._json("POST", f"/proxies/{self._q(name)}", body))

    def enable(self, name: str) -> None:
        self._lib(f"POST /proxies/{name}", lambda: self._lib_proxy(name).enable())

    def disable(self, name: str) -> None:
        self._lib(f"POST /proxies/{name}", lambda: self._lib_proxy(name).disable())

    def delete_proxy(self, name: str) -> None:
        self._lib(f"DELETE /proxies/{name}", lambda: self._lib_proxy(name).destroy())
        self.created.discard(name)

    def delete_created(self) -> list[str]:
        """Delete every proxy this client created (already gone is fine); returns them."""
        deleted = []
        for name in sorted(self.created):
            try:
                self.delete_proxy(name)
            except ToxiproxyError as exc:
                if exc.status != 404:
                    raise
                self.created.discard(name)
            deleted.append(name)
        return deleted

    @staticmethod
    def _lib_proxy(name: str) -> Any:
        # The library only needs the name to address a proxy; no lookup round trip.
        return _lib.Proxy(name=name, upstream="", enabled=True, listen="")

    # -- toxics ----------------------------------------------------------------------
    def toxics(self, proxy: str) -> list[Toxic]:
        """The proxy's toxics: upstream first, then downstream, each in creation order."""
        found = self._lib(f"GET /proxies/{proxy}/toxics", lambda: self._lib_proxy(proxy).toxics())
        return [
            Toxic(t.name, t.type, t.stream, float(t.toxicity), dict(t.attributes))
            for t in found.values()
        ]

    def toxic(self, proxy: str, name: str) -> Toxic:
        return Toxic.from_json(
            self._json("GET", f"/proxies/{self._q(proxy)}/toxics/{self._q(name)}")
        )

    def add_toxic(
        self,
        proxy: str,
        type: str,
        *,
        name: str | None = None,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
    ) -> Toxic:
        """Add a toxic and return it as the server stored it.

        The library's ``add_toxic`` ignores any status it does not know (a 500 would pass
        silently), so the toxic is read back: an added toxic is a confirmed toxic.
        """
        name = name or f"{type}_{stream}"
        self._lib(
            f"POST /proxies/{proxy}/toxics",
            lambda: self._lib_proxy(proxy).add_toxic(
                type=type,
                name=name,
                stream=stream,
                toxicity=toxicity,
                attributes=dict(attributes or {}),
            ),
        )
        return self.toxic(proxy, name)

    def update_toxic(
        self,
        proxy: str,
        name: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        toxicity: float | None = None,
    ) -> Toxic:
        """Merge ``attributes`` into the toxic's and/or set its toxicity, live."""
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if toxicity is not None:
            body["toxicity"] = toxicity
        return Toxic.from_json(
            self._json("POST", f"/proxies/{self._q(proxy)}/toxics/{self._q(name)}", body)
        )

    def remove_toxic(self, proxy: str, name: str, missing_ok: bool = False) -> None:
        try:
            self._lib(
                f"DELETE /proxies/{proxy}/toxics/{name}",
                lambda: self._lib_proxy(proxy).destroy_toxic(name),
            )
        except ToxiproxyError as exc:
            if not (missing_ok and exc.status == 404):
                raise

    def clear_toxics(self, proxy: str) -> list[str]:
        """Remove every toxic of one proxy (not the whole server, unlike ``reset``)."""
        removed = []
        for toxic in self.toxics(proxy):
            self.remove_toxic(proxy, toxic.name, missing_ok=True)
            removed.append(toxic.name)
        return removed
