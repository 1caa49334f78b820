"""The HTTP API: every row of the endpoint table, shapes, and validation order."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from tp_helpers import ToxiproxyServer, Upstream

from fracas.harness.kit.net import free_port


def err(r: Any) -> tuple[int, str]:
    body = r.json()
    assert body["status"] == r.status_code
    return r.status_code, body["error"]


def test_version(tp: ToxiproxyServer) -> None:
    r = tp.http.get("/version")
    assert r.status_code == 200
    assert r.json() == {"version": "2.12.0"}


def test_proxies_empty_then_listed(tp: ToxiproxyServer, upstream: Upstream) -> None:
    assert tp.http.get("/proxies").json() == {}
    tp.proxy("a", upstream.echo_port)
    body = tp.http.get("/proxies").json()
    assert list(body) == ["a"]
    assert set(body["a"]) == {"name", "listen", "upstream", "enabled", "toxics"}


def test_create_proxy_shape_and_defaults(tp: ToxiproxyServer, upstream: Upstream) -> None:
    r = tp.http.post(
        "/proxies",
        json={"name": "p", "upstream": f"127.0.0.1:{upstream.echo_port}", "listen": "localhost:0"},
    )
    assert r.status_code == 201
    body = r.json()
    host, port = body["listen"].rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert body == {
        "name": "p",
        "listen": body["listen"],
        "upstream": f"127.0.0.1:{upstream.echo_port}",
        "enabled": True,
        "toxics": [],
    }
    # listen defaults to loopback (fracas); enabled may be false (nothing bound)
    r = tp.http.post("/proxies", json={"name": "q", "upstream": "127.0.0.1:1", "enabled": False})
    assert r.status_code == 201
    assert r.json()["enabled"] is False
    assert r.json()["listen"] == "127.0.0.1:0"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "bad request body: EOF"),
        (b"{", 400, "bad request body: unexpected EOF"),
        (
            b'{"name": 1, "upstream": "x:1"}',
            400,
            "bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string",
        ),
        (b'{"upstream": "x:1"}', 400, "missing required field: name"),
        (b'{"name": "x"}', 400, "missing required field: upstream"),
        (
            b'{"name": "x", "upstream": "x:1", "enabled": "yes"}',
            400,
            "bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool",
        ),
    ],
)
def test_create_proxy_errors(tp: ToxiproxyServer, body: bytes, status: int, message: str) -> None:
    r = tp.http.post("/proxies", content=body)
    assert err(r) == (status, message)


def test_create_proxy_conflict_and_bind_errors(tp: ToxiproxyServer, upstream: Upstream) -> None:
    tp.proxy("dup", upstream.echo_port)
    r = tp.http.post("/proxies", json={"name": "dup", "upstream": "127.0.0.1:1"})
    assert err(r) == (409, "proxy already exists")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = tp.http.post(
            "/proxies",
            json={"name": "busy", "upstream": "127.0.0.1:1", "listen": f"127.0.0.1:{port}"},
        )
        assert err(r) == (500, f"listen tcp 127.0.0.1:{port}: bind: address already in use")
    r = tp.http.post("/proxies", json={"name": "bad", "upstream": "127.0.0.1:1", "listen": "nope"})
    assert err(r) == (500, "listen tcp: address nope: missing port in address")
    assert set(tp.http.get("/proxies").json()) == {"dup"}


def test_get_update_delete_proxy(tp: ToxiproxyServer, upstream: Upstream) -> None:
    tp.proxy("p", upstream.echo_port)
    assert tp.http.get("/proxies/p").json()["name"] == "p"
    assert err(tp.http.get("/proxies/nope")) == (404, "proxy not found")
    for method in ("POST", "PATCH"):
        r = tp.http.request(method, "/proxies/p", json={"enabled": False})
        assert r.status_code == 200 and r.json()["enabled"] is False
        r = tp.http.request(method, "/proxies/p", json={"enabled": True})
        assert r.status_code == 200 and r.json()["enabled"] is True
    # absent fields keep their value
    before = tp.http.get("/proxies/p").json()
    r = tp.http.patch("/proxies/p", json={})
    assert r.json() == before
    new_port = free_port()
    r = tp.http.patch("/proxies/p", json={"listen": f"127.0.0.1:{new_port}"})
    assert r.json()["listen"] == f"127.0.0.1:{new_port}" and r.json()["enabled"]
    assert err(tp.http.patch("/proxies/nope", json={})) == (404, "proxy not found")
    assert err(tp.http.patch("/proxies/p", content=b"{"))[0] == 400
    r = tp.http.patch("/proxies/p", json={"listen": "bad"})
    assert err(r) == (500, "listen tcp: address bad: missing port in address")
    assert tp.http.delete("/proxies/p").status_code == 204
    assert err(tp.http.delete("/proxies/p")) == (404, "proxy not found")


def test_populate(tp: ToxiproxyServer, upstream: Upstream) -> None:
    up = f"127.0.0.1:{upstream.echo_port}"
    r = tp.http.post(
        "/populate",
        json=[{"name": "a", "upstream": up}, {"name": "b", "upstream": up, "enabled": False}],
    )
    assert r.status_code == 201
    assert [p["name"] for p in r.json()["proxies"]] == ["a", "b"]
    assert [p["enabled"] for p in r.json()["proxies"]] == [True, False]
    # same listen and upstream: kept as is (toxics too)
    tp.toxic("a", "noop")
    listen_a = r.json()["proxies"][0]["listen"]
    r = tp.http.post("/populate", json=[{"name": "a", "upstream": up, "listen": listen_a}])
    assert r.status_code == 201 and len(r.json()["proxies"][0]["toxics"]) == 1
    # validated first: nothing created
    r = tp.http.post("/populate", json=[{"name": "c", "upstream": up}, {"upstream": up}])
    assert r.status_code == 400
    assert r.json() == {
        "error": "missing required field: name at proxy 2",
        "status": 400,
        "proxies": [],
    }
    assert "c" not in tp.http.get("/proxies").json()
    # a failure part way: created so far are reported and kept
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = tp.http.post(
            "/populate",
            json=[
                {"name": "d", "upstream": up},
                {"name": "e", "upstream": up, "listen": f"127.0.0.1:{port}"},
            ],
        )
    assert r.status_code == 500
    body = r.json()
    assert body["status"] == 500 and "address already in use" in body["error"]
    assert [p["name"] for p in body["proxies"]] == ["d"]
    assert err(tp.http.post("/populate", content=b"{"))[0] == 400


def test_toxic_crud(tp: ToxiproxyServer, upstream: Upstream) -> None:
    tp.proxy("p", upstream.echo_port)
    r = tp.http.post("/proxies/p/toxics", json={"type": "latency", "attributes": {"latency": 5}})
    assert r.status_code == 200
    assert r.json() == {
        "attributes": {"latency": 5, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
    }
    tp.toxic("p", "bandwidth", stream="upstream", rate=10)
    tp.toxic("p", "noop", name="n2")
    names = [t["name"] for t in tp.http.get("/proxies/p/toxics").json()]
    assert names == ["bandwidth_upstream", "latency_downstream", "n2"]
    assert tp.http.get("/proxies/p").json()["toxics"][0]["name"] == "bandwidth_upstream"
    assert tp.http.get("/proxies/p/toxics/n2").json()["type"] == "noop"
    assert err(tp.http.get("/proxies/p/toxics/zz")) == (404, "toxic not found")
    assert err(tp.http.get("/proxies/zz/toxics/n2")) == (404, "proxy not found")
    assert err(tp.http.get("/proxies/zz/toxics")) == (404, "proxy not found")
    # update: attributes merged, toxicity kept unless given
    for method in ("POST", "PATCH"):
        r = tp.http.request(
            method, "/proxies/p/toxics/latency_downstream", json={"attributes": {"jitter": 2}}
        )
        assert r.status_code == 200
        assert r.json()["attributes"] == {"latency": 5, "jitter": 2}
        assert r.json()["toxicity"] == 1.0
    r = tp.http.patch("/proxies/p/toxics/latency_downstream", json={"toxicity": 0.5})
    assert r.json()["toxicity"] == 0.5 and r.json()["attributes"]["latency"] == 5
    assert err(tp.http.patch("/proxies/p/toxics/zz", json={}))[0] == 404
    assert err(tp.http.patch("/proxies/zz/toxics/n2", json={})) == (404, "proxy not found")
    assert err(tp.http.patch("/proxies/p/toxics/n2", content=b"{"))[0] == 400
    assert (
        err(tp.http.patch("/proxies/p/toxics/latency_downstream", json={"toxicity": 2}))[0] == 400
    )
    assert (
        err(
            tp.http.patch("/proxies/p/toxics/bandwidth_upstream", json={"attributes": {"rate": -1}})
        )[0]
        == 400
    )
    assert tp.http.delete("/proxies/p/toxics/n2").status_code == 204
    assert err(tp.http.delete("/proxies/p/toxics/n2")) == (404, "toxic not found")
    assert err(tp.http.delete("/proxies/zz/toxics/n2")) == (404, "proxy not found")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        # order: proxy exists (tested below), JSON, stream, type, name, attributes
        (b"{", 400, "bad request body: unexpected EOF"),
        (
            b'{"type": "nope", "stream": "sideways"}',
            400,
            "stream was invalid, can be either upstream or downstream",
        ),
        (b'{"type": "nope", "name": "taken"}', 400, "invalid toxic type"),
        (
            b'{"type": "noop", "name": "taken", "attributes": {"x": "y"}}',
            409,
            "toxic already exists",
        ),
        (b'{"type": "noop", "stream": "upstream"}', 409, "toxic already exists"),
        (
            b'{"type": "latency", "attributes": {"latency": "slow"}}',
            400,
            "bad request body: json: cannot unmarshal string into Go struct field "
            "LatencyToxic.attributes.latency of type int64",
        ),
        (
            b'{"type": "latency", "attributes": {"latency": 1.5}}',
            400,
            "bad request body: json: cannot unmarshal number 1.5 into Go struct field "
            "LatencyToxic.attributes.latency of type int64",
        ),
        (
            b'{"type": "bandwidth", "attributes": {"rate": -1}}',
            400,
            "bad request body: rate must be >= 0",
        ),
        (
            b'{"type": "slicer", "attributes": {"average_size": 0}}',
            400,
            "bad request body: average_size must be >= 1",
        ),
        (
            b'{"type": "noop", "name": "t1", "toxicity": 1.5}',
            400,
            "bad request body: toxicity must be between 0 and 1",
        ),
        (
            b'{"type": "noop", "name": "t2", "toxicity": -0.1}',
            400,
            "bad request body: toxicity must be between 0 and 1",
        ),
        (
            b'{"type": "noop", "name": "t3", "toxicity": "x"}',
            400,
            "bad request body: json: cannot unmarshal string into Go struct field "
            "ToxicWrapper.toxicity of type float32",
        ),
    ],
)
def test_toxic_create_validation(
    tp: ToxiproxyServer, upstream: Upstream, body: bytes, status: int, message: str
) -> None:
    tp.proxy("p", upstream.echo_port)
    tp.toxic("p", "noop", name="taken")
    tp.toxic("p", "noop", name="noop_upstream", stream="downstream")
    r = tp.http.post("/proxies/p/toxics", content=body)
    assert err(r) == (status, message)
    assert err(tp.http.post("/proxies/zz/toxics", content=b"{")) == (404, "proxy not found")


def test_toxic_create_details(tp: ToxiproxyServer, upstream: Upstream) -> None:
    tp.proxy("p", upstream.echo_port)
    # stream in any case; unknown attribute keys ignored; absent ones are 0
    r = tp.http.post(
        "/proxies/p/toxics",
        json={
            "type": "slicer",
            "stream": "UpStream",
            "attributes": {"average_size": 3, "bogus": 1},
        },
    )
    assert r.status_code == 200
    assert r.json()["stream"] == "UpStream" and r.json()["name"] == "slicer_UpStream"
    assert r.json()["attributes"] == {"average_size": 3, "size_variation": 0, "delay": 0}
    assert tp.http.get("/proxies/p/toxics").json()[0]["name"] == "slicer_UpStream"
    for type_name, attrs in [
        ("latency", {"latency": 0, "jitter": 0}),
        ("bandwidth", {"rate": 0}),
        ("slow_close", {"delay": 0}),
        ("timeout", {"timeout": 0}),
        ("reset_peer", {"timeout": 0}),
        ("limit_data", {"bytes": 0}),
        ("noop", {}),
    ]:
        r = tp.http.post("/proxies/p/toxics", json={"type": type_name, "toxicity": 0})
        assert r.status_code == 200, r.text
        assert r.json()["attributes"] == attrs


def test_reset(tp: ToxiproxyServer, upstream: Upstream) -> None:
    tp.proxy("a", upstream.echo_port)
    tp.proxy("b", upstream.echo_port, enabled=False)
    tp.toxic("a", "latency", latency=10)
    tp.toxic("a", "noop", stream="upstream")
    assert tp.http.post("/reset").status_code == 204
    proxies = tp.http.get("/proxies").json()
    assert all(p["enabled"] and p["toxics"] == [] for p in proxies.values())


def test_metrics_and_debug_stats(tp: ToxiproxyServer, upstream: Upstream) -> None:
    from tp_helpers import connect, round_trip

    port = tp.proxy("m", upstream.echo_port)
    with connect(port) as s:
        round_trip(s, b"12345")
        stats = tp.stats()
        assert stats["connections"] == 1 and stats["proxies"]["m"]["connections"] == 1
    r = tp.http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "# TYPE toxiproxy_proxy_received_bytes_total counter" in r.text
    assert 'toxiproxy_proxy_sent_bytes_total{direction="upstream"' in r.text


def test_unknown_routes_and_methods(tp: ToxiproxyServer) -> None:
    assert tp.http.get("/nope").status_code == 404
    assert tp.http.put("/proxies", json={}).status_code == 405
    assert tp.http.get("/proxies", headers={"User-Agent": "Mozilla/5.0"}).status_code == 403


def test_metrics_can_be_switched_off(start_server: Any) -> None:
    server = start_server(extra=("--no-metrics",))
    assert server.http.get("/metrics").status_code == 404


def test_config_file_populates_at_start(
    start_server: Any, upstream: Upstream, tmp_path: Any
) -> None:
    import json

    config = tmp_path / "proxies.json"
    config.write_text(
        json.dumps(
            [
                {
                    "name": "cfg",
                    "upstream": f"127.0.0.1:{upstream.echo_port}",
                    "listen": "127.0.0.1:0",
                }
            ]
        )
    )
    server = start_server(extra=("--config", str(config)))
    assert server.http.get("/proxies/cfg").json()["enabled"] is True


def test_chunked_bodies_and_keep_alive(tp: ToxiproxyServer, upstream: Upstream) -> None:
    import json

    body = json.dumps({"name": "chunky", "upstream": f"127.0.0.1:{upstream.echo_port}"}).encode()

    def pieces() -> Any:
        for i in range(0, len(body), 7):
            yield body[i : i + 7]

    r = tp.http.post("/proxies", content=pieces())  # no length: sent chunked
    assert r.status_code == 201, r.text
    # many requests on one connection
    for _ in range(20):
        assert tp.http.get("/proxies/chunky").status_code == 200
