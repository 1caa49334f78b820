"""The embedded Toxiproxy API fuzzed (issue 21). Schemathesis against its /openapi.json:
generated requests, valid and invalid, on every operation, never get an answer the
document does not describe, and no 5xx but the documented one (a listen address that
cannot be bound). Hypothesis against the HTTP layer below: any request line, headers and
framing get an answer or a closed connection, never a traceback.
"""

from __future__ import annotations

import re
import socket
from typing import Any
from urllib.parse import quote

import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from tp_helpers import ToxiproxyServer, Upstream

from fracas.harness.kit.net import LOOPBACK
from tests.fuzzing import fuzz

#: The proxy and toxic that half the generated path ids are pointed at, so the fuzzer
#: reaches the handlers behind the 404 and not only the 404.
PROXY, TOXIC = "fuzz", "fuzz_latency"


def _bind_error(case: schemathesis.Case, response: Any) -> bool:
    """The documented 500: the error text is Go's ``listen tcp ...`` for a bind failure."""
    return response.status_code == 500 and response.json()["error"].startswith("listen tcp")


def _on_loopback(value: Any) -> None:
    """A generated ``listen`` keeps its port text (the parser is fuzzed) but is put on
    loopback, so the fuzzer never opens a port on every interface or sends a hostname to
    DNS."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("listen"), str):
            item["listen"] = f"{LOOPBACK}:{item['listen'].rpartition(':')[2]}"


def _prepare(case: schemathesis.Case) -> None:
    params = case.path_parameters or {}
    if len(params.get("proxy", "")) % 2 == 0 and "proxy" in params:
        params["proxy"] = PROXY
        if len(params.get("toxic", "")) % 2 == 0 and "toxic" in params:
            params["toxic"] = TOXIC
    _on_loopback(case.body)


def test_every_operation_answers_as_documented(tp: ToxiproxyServer, upstream: Upstream) -> None:
    def restore() -> None:
        for name in tp.http.get("/proxies").json():  # fuzzed names: any characters
            assert tp.http.delete(f"/proxies/{quote(name, safe='')}").status_code == 204
        tp.proxy(PROXY, upstream.echo_port)
        tp.toxic(PROXY, "latency", name=TOXIC, latency=1)

    restore()
    result = fuzz(tp.url, examples=5, allowed_5xx=_bind_error, after_each=restore, prepare=_prepare)
    assert result.operations == 17
    assert result.findings == []
    assert {200, 201, 204, 400, 404} <= set(result.statuses), result.statuses


# -- the HTTP layer under the API: request framing schemathesis never varies -------------

_HEADS = st.sampled_from(
    ["Content-Length", "Transfer-Encoding", "Connection", "User-Agent", "Host", "X-Any"]
)
_VALUES = st.one_of(
    st.sampled_from(["chunked", "close", "-1", "+5", "1_0", "0x10", "99999999999999999999", ""]),
    st.integers(-5, 40).map(str),
    st.sampled_from(["a" * 70_000, "b" * (1 << 20)]),  # past asyncio's line limit, and Go's
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=12),
)
_REQUESTS = st.tuples(
    st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "BREW"]),
    st.sampled_from(["/version", "/proxies", "/populate", f"/proxies/{PROXY}", "/x", "*"]),
    st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/9", ""]),
    st.lists(st.tuples(_HEADS, _VALUES), max_size=4),
    st.binary(max_size=40),
)


def _exchange(port: int, raw: bytes) -> bytes:
    """Send a request, half-close, read whatever comes back until the server closes."""
    with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_any_request_framing_gets_an_answer_or_a_close(tp: ToxiproxyServer) -> None:
    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(request=_REQUESTS)
    def run(request: tuple[str, str, str, list[tuple[str, str]], bytes]) -> None:
        method, path, version, headers, body = request
        head = f"{method} {path} {version}".strip() + "\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        answer = _exchange(tp.port, head.encode("latin-1") + body)
        for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer):
            assert int(status) < 500 or b"listen tcp" in answer, answer

    run()
    tp.clear()
    assert "Traceback" not in tp.process.log_path.read_text()


def test_a_length_that_is_not_a_number_is_a_400(tp: ToxiproxyServer) -> None:
    # Found by the test above: each of these was a traceback in the server's log and a
    # connection closed with no answer.
    for framing, body in [
        ("Content-Length: abc", b""),
        ("Content-Length: -1", b""),
        ("Transfer-Encoding: chunked", b"zz\r\n"),
    ]:
        raw = f"POST /proxies HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n".encode() + body
        answer = _exchange(tp.port, raw)
        assert answer.startswith(b"HTTP/1.1 400 "), answer
        assert b"is not a length" in answer
    assert tp.http.get("/version").status_code == 200
    assert "Traceback" not in tp.process.log_path.read_text()


def test_a_request_head_line_over_1mb_is_a_431(tp: ToxiproxyServer) -> None:
    # Found after the framing fuzz: a line over asyncio's 64 KiB limit was a traceback and
    # a connection closed with no answer. Go takes heads up to 1 MB; so does the server now.
    assert (
        _exchange(tp.port, b"GET /version HTTP/1.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")[:15]
        == b"HTTP/1.1 200 OK"
    )
    too_long = b"a" * (1 << 20)
    for raw in [
        b"GET /version HTTP/1.1\r\nX-Big: " + too_long + b"\r\n\r\n",
        b"GET /" + too_long + b" HTTP/1.1\r\n\r\n",
        b"POST /proxies HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + too_long + b"\r\n",
    ]:
        assert _exchange(tp.port, raw).startswith(b"HTTP/1.1 431 "), raw[:40]
    assert "Traceback" not in tp.process.log_path.read_text()
