"""ToxiClient unit tests: the httpx layer under respx, the toxiproxy-python layer against a
canned HTTP server in a thread (the library speaks ``requests``, which respx cannot see)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import respx

from fracas.harness.kit.net import LOOPBACK, free_port
from fracas.harness.kit.toxiclient import Proxy, ToxiClient, ToxiproxyError, ToxiproxyUnreachable

BASE = "http://127.0.0.1:8474"

PROXY = {
    "name": "payment",
    "listen": "127.0.0.1:40001",
    "upstream": "127.0.0.1:9001",
    "enabled": True,
    "toxics": [],
}
TOXIC = {
    "name": "lat",
    "type": "latency",
    "stream": "downstream",
    "toxicity": 1.0,
    "attributes": {"latency": 100, "jitter": 0},
}


def err(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, json={"error": text, "status": status})


@pytest.fixture
def client() -> Iterator[ToxiClient]:
    with ToxiClient(BASE) as c:
        yield c


# -- the httpx layer ----------------------------------------------------------------------


@respx.mock
def test_version_reads_json_and_plain_text(client: ToxiClient) -> None:
    respx.get(f"{BASE}/version").mock(return_value=httpx.Response(200, json={"version": "2.12.0"}))
    assert client.version() == "2.12.0"
    respx.get(f"{BASE}/version").mock(return_value=httpx.Response(200, text="2.1.4\n"))
    assert client.version() == "2.1.4"


@respx.mock
def test_create_proxy_returns_bound_address_and_is_remembered(client: ToxiClient) -> None:
    route = respx.post(f"{BASE}/proxies").mock(return_value=httpx.Response(201, json=PROXY))
    proxy = client.create_proxy("payment", "127.0.0.1:9001")
    assert proxy.port == 40001 and proxy.host == "127.0.0.1"
    assert json.loads(route.calls[0].request.content) == {
        "name": "payment",
        "upstream": "127.0.0.1:9001",
        "listen": "127.0.0.1:0",
        "enabled": True,
    }
    assert client.created == {"payment"}


@respx.mock
def test_500_becomes_typed_error_with_status_and_server_text(client: ToxiClient) -> None:
    respx.post(f"{BASE}/proxies").mock(
        return_value=err(500, "listen tcp 127.0.0.1:1: bind: permission denied")
    )
    with pytest.raises(ToxiproxyError) as info:
        client.create_proxy("x", "127.0.0.1:1", listen="127.0.0.1:1")
    assert info.value.status == 500
    assert info.value.error == "listen tcp 127.0.0.1:1: bind: permission denied"
    assert "POST /proxies" in str(info.value)
    assert client.created == set()


@respx.mock
def test_non_json_error_body_keeps_the_text(client: ToxiClient) -> None:
    respx.get(f"{BASE}/proxies/p").mock(return_value=httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(ToxiproxyError) as info:
        client.proxy("p")
    assert (info.value.status, info.value.error) == (502, "Bad Gateway")


@respx.mock
def test_one_proxy_by_name_with_toxics(client: ToxiClient) -> None:
    respx.get(f"{BASE}/proxies/payment").mock(
        return_value=httpx.Response(200, json={**PROXY, "toxics": [TOXIC]})
    )
    proxy = client.proxy("payment")
    assert proxy.toxics[0].attributes["latency"] == 100
    respx.get(f"{BASE}/proxies/nope").mock(return_value=err(404, "proxy not found"))
    with pytest.raises(ToxiproxyError) as info:
        client.proxy("nope")
    assert (info.value.status, info.value.error) == (404, "proxy not found")


@respx.mock
def test_update_toxic_sends_only_what_changes(client: ToxiClient) -> None:
    route = respx.post(f"{BASE}/proxies/payment/toxics/lat").mock(
        return_value=httpx.Response(200, json={**TOXIC, "attributes": {"latency": 5, "jitter": 0}})
    )
    toxic = client.update_toxic("payment", "lat", attributes={"latency": 5})
    assert toxic.attributes["latency"] == 5
    assert json.loads(route.calls[0].request.content) == {"attributes": {"latency": 5}}


@respx.mock
def test_update_proxy_omits_absent_fields(client: ToxiClient) -> None:
    route = respx.post(f"{BASE}/proxies/payment").mock(
        return_value=httpx.Response(200, json={**PROXY, "enabled": False})
    )
    assert client.update_proxy("payment", enabled=False).enabled is False
    assert json.loads(route.calls[0].request.content) == {"enabled": False}


@respx.mock
def test_reset(client: ToxiClient) -> None:
    route = respx.post(f"{BASE}/reset").mock(return_value=httpx.Response(204))
    client.reset()
    assert route.called


@respx.mock
def test_populate_records_partial_creation_on_error(client: ToxiClient) -> None:
    respx.post(f"{BASE}/populate").mock(
        return_value=httpx.Response(
            500,
            json={"error": "listen tcp: address already in use", "status": 500, "proxies": [PROXY]},
        )
    )
    with pytest.raises(ToxiproxyError) as info:
        client.populate(
            [
                {"name": "payment", "upstream": "127.0.0.1:9001"},
                {"name": "crm", "upstream": "127.0.0.1:9002", "listen": "x:1"},
            ]
        )
    assert info.value.status == 500 and "address already in use" in info.value.error
    assert client.created == {"payment"}  # so cleanup deletes it


@respx.mock
def test_populate_success(client: ToxiClient) -> None:
    respx.post(f"{BASE}/populate").mock(return_value=httpx.Response(201, json={"proxies": [PROXY]}))
    assert [p.name for p in client.populate([{"name": "payment", "upstream": "u:1"}])] == [
        "payment"
    ]
    assert client.created == {"payment"}


def test_unreachable_server_is_typed_and_wait_up_gives_up() -> None:
    with ToxiClient(f"http://{LOOPBACK}:{free_port()}", timeout=0.5) as c:
        with pytest.raises(ToxiproxyUnreachable) as info:
            c.version()
        assert info.value.status is None
        assert not c.is_up()
        with pytest.raises(ToxiproxyUnreachable):
            c.wait_up(0.2)
        with pytest.raises(ToxiproxyUnreachable):
            c.proxies()  # the library path too


@pytest.mark.parametrize("bad", ["", "http://", "localhost", "http://host-without-port"])
def test_bad_base_url(bad: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        ToxiClient(bad)


def test_proxy_json_round_trip() -> None:
    proxy = Proxy.from_json(PROXY)
    assert Proxy.from_json(proxy.to_json()) == proxy


# -- the toxiproxy-python layer, against a canned server -------------------------------------


class Canned:
    """Answers from a table, records every request; a real HTTP server on loopback."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], tuple[int, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, self.path, json.loads(raw) if raw else None))
                status, body = outer.answers.get((self.command, self.path), (404, None))
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _any

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def canned() -> Iterator[Canned]:
    c = Canned()
    yield c
    c.close()


def test_library_calls_are_addressed_to_this_client(canned: Canned) -> None:
    canned.answers[("GET", "/proxies")] = (200, {"payment": PROXY})
    canned.answers[("GET", "/proxies/payment/toxics")] = (200, [TOXIC])
    with ToxiClient(canned.url) as c:
        assert c.proxies()["payment"].upstream == "127.0.0.1:9001"
        assert c.toxics("payment")[0].attributes == {"latency": 100, "jitter": 0}


def test_add_toxic_posts_and_confirms(canned: Canned) -> None:
    canned.answers[("POST", "/proxies/payment/toxics")] = (200, TOXIC)
    canned.answers[("GET", "/proxies/payment/toxics/lat")] = (200, TOXIC)
    with ToxiClient(canned.url) as c:
        toxic = c.add_toxic("payment", "latency", name="lat", attributes={"latency": 100})
    assert toxic.type == "latency"
    method, path, body = canned.requests[0]
    assert (method, path) == ("POST", "/proxies/payment/toxics")
    assert body == {
        "name": "lat",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
        "attributes": {"latency": 100},
    }


def test_a_500_on_add_toxic_is_not_silent(canned: Canned) -> None:
    # The library ignores a 500 here; the read-back turns it into an error.
    canned.answers[("POST", "/proxies/payment/toxics")] = (500, {"error": "boom", "status": 500})
    canned.answers[("GET", "/proxies/payment/toxics/lat")] = (
        404,
        {"error": "toxic not found", "status": 404},
    )
    with ToxiClient(canned.url) as c, pytest.raises(ToxiproxyError) as info:
        c.add_toxic("payment", "latency", name="lat")
    assert info.value.status == 404


@pytest.mark.parametrize(
    ("status", "text"),
    [(409, "toxic already exists"), (400, "invalid toxic type"), (404, "proxy not found")],
)
def test_library_errors_become_typed(canned: Canned, status: int, text: str) -> None:
    canned.answers[("POST", "/proxies/payment/toxics")] = (
        status,
        {"error": text, "status": status},
    )
    with ToxiClient(canned.url) as c, pytest.raises(ToxiproxyError) as info:
        c.add_toxic("payment", "latency", name="lat")
    assert (info.value.status, info.value.error) == (status, text)
    assert f"POST /proxies/payment/toxics: {status} {text}" in str(info.value)


def test_remove_toxic_missing_ok_and_delete_created(canned: Canned) -> None:
    canned.answers[("DELETE", "/proxies/p/toxics/t")] = (
        404,
        {"error": "toxic not found", "status": 404},
    )
    canned.answers[("DELETE", "/proxies/a")] = (204, None)
    canned.answers[("DELETE", "/proxies/b")] = (404, {"error": "proxy not found", "status": 404})
    with ToxiClient(canned.url) as c:
        c.remove_toxic("p", "t", missing_ok=True)
        with pytest.raises(ToxiproxyError):
            c.remove_toxic("p", "t")
        c.created.update({"a", "b"})
        assert c.delete_created() == ["a", "b"]
        assert c.created == set()


def test_enable_disable_send_enabled_flag(canned: Canned) -> None:
    canned.answers[("POST", "/proxies/p")] = (200, PROXY)
    with ToxiClient(canned.url) as c:
        c.disable("p")
        c.enable("p")
    assert [r[2] for r in canned.requests] == [{"enabled": False}, {"enabled": True}]
