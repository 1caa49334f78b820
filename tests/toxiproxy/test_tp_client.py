"""Every public method of the ``toxiproxy-python`` client against the server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from toxiproxy import Proxy, Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists
from toxiproxy.toxic import Toxic
from tp_helpers import ToxiproxyServer, Upstream, connect, round_trip


@pytest.fixture()
def client(tp: ToxiproxyServer) -> Iterator[Toxiproxy]:
    saved = (APIConsumer.host, APIConsumer.port)
    server = Toxiproxy()
    server.update_api_consumer("127.0.0.1", tp.port)
    yield server
    APIConsumer.host, APIConsumer.port = saved


def test_the_whole_client(client: Toxiproxy, tp: ToxiproxyServer, upstream: Upstream) -> None:
    up = f"127.0.0.1:{upstream.echo_port}"
    assert client.running() is True
    assert b'"version"' in client.version()
    assert client.proxies() == {}

    proxy = client.create(upstream=up, name="cli")
    assert isinstance(proxy, Proxy) and proxy.enabled is True
    port = int(proxy.listen.rsplit(":", 1)[1])
    with pytest.raises(ProxyExists):
        client.create(upstream=up, name="cli")
    other = client.create(upstream=up, name="off", listen="127.0.0.1:0", enabled=False)
    assert other.enabled is False
    assert set(client.proxies()) == {"cli", "off"}
    got = client.get_proxy("cli")
    assert got is not None and got.upstream == up
    assert client.get_proxy("nope") is None

    proxy.add_toxic(type="latency", attributes={"latency": 100})
    proxy.add_toxic(type="noop", stream="upstream", name="n", toxicity=0.5)
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="bogus")
    with pytest.raises(ProxyExists):
        proxy.add_toxic(type="noop", stream="upstream", name="n")
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "n"}
    assert all(isinstance(t, Toxic) for t in toxics.values())
    latency = proxy.get_toxic("latency_downstream")
    assert latency is not None and latency.attributes == {"latency": 100, "jitter": 0}
    assert proxy.get_toxic("missing") is None
    with connect(port) as s:
        assert round_trip(s) >= 0.098
    assert proxy.destroy_toxic("n") is True
    with pytest.raises(NotFound):
        proxy.destroy_toxic("n")

    with proxy.down():
        assert client.get_proxy("cli").enabled is False
        with pytest.raises(ConnectionRefusedError):
            connect(port).close()
    assert client.get_proxy("cli").enabled is True
    proxy.disable()
    assert proxy.enabled is False
    proxy.enable()
    assert proxy.enabled is True

    assert client.reset() is True
    assert proxy.toxics() == {}
    assert client.get_proxy("off").enabled is True

    created = client.populate(
        [
            {"name": "cli", "upstream": up, "listen": proxy.listen},  # unchanged: kept
            {"name": "pop", "upstream": up, "listen": "127.0.0.1:0"},
        ]
    )
    assert [p.name for p in created] == ["pop"]
    assert client.destroy(client.get_proxy("pop")) is True
    assert client.destroy("not a proxy") is False
    assert proxy.destroy() is True
    with pytest.raises(NotFound):
        proxy.destroy()
    client.destroy_all()
    assert client.proxies() == {}
