"""Network faults against the embedded toxiproxy server, with a real upstream behind it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from faults_support import Upstream

from fracas.harness.faults import FaultError, SimpleFaultContext, from_json, heal_all
from fracas.harness.kit.net import LOOPBACK
from fracas.harness.kit.toxiclient import ToxiClient


@pytest.fixture
def world(toxiproxy_url: str, upstream: Upstream) -> Iterator[tuple[SimpleFaultContext, str]]:
    client = ToxiClient(toxiproxy_url)
    proxy = client.create_proxy("svc", f"{LOOPBACK}:{upstream.port}")
    ctx = SimpleFaultContext(toxiproxy=client, proxies={"svc": "svc"})
    yield ctx, f"http://{LOOPBACK}:{proxy.port}"
    client.close()


def get(url: str, path: str = "/hello.txt", timeout: float = 3.0) -> httpx.Response:
    return httpx.get(url + path, timeout=timeout, trust_env=False)


def timed(url: str, path: str = "/hello.txt") -> float:
    start = time.monotonic()
    get(url, path).raise_for_status()
    return time.monotonic() - start


def fault(kind: str, **params: Any) -> Any:
    return from_json({"kind": kind, "target": "svc", "params": params})


def toxics(ctx: SimpleFaultContext) -> list[tuple[str, str, dict[str, Any]]]:
    assert ctx.toxiproxy is not None
    return [(t.type, t.stream, dict(t.attributes)) for t in ctx.toxiproxy.toxics("svc")]


def test_latency_slows_answers_and_heal_restores(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, url = world
    f = fault("latency", latency_ms=500)
    f.apply(ctx)
    assert toxics(ctx) == [("latency", "downstream", {"latency": 500, "jitter": 0})]
    assert timed(url) >= 0.5
    f.heal(ctx)
    assert toxics(ctx) == []
    assert timed(url) < 0.4
    f.heal(ctx)  # idempotent


def test_direction_both_puts_one_toxic_each_way(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, url = world
    f = fault("jitter", jitter_ms=20, latency_ms=40, direction="both")
    f.apply(ctx)
    assert sorted(t[1] for t in toxics(ctx)) == ["downstream", "upstream"]
    assert get(url).text.startswith("hello")
    f.heal(ctx)
    assert toxics(ctx) == []


def test_bandwidth_paces_a_big_answer(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, url = world
    f = fault("bandwidth", rate_kbps=250)  # 200 KB at 250 KB/s: about 0.8 s
    f.apply(ctx)
    assert timed(url, "/big.bin") >= 0.6
    f.heal(ctx)
    assert timed(url, "/big.bin") < 0.5


def test_down_refuses_connections_until_healed(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, url = world
    f = fault("down")
    f.apply(ctx)
    with pytest.raises(httpx.ConnectError):
        get(url)
    f.heal(ctx)
    assert get(url).status_code == 200
    f.heal(ctx)


def test_timeout_black_holes(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, url = world
    # Upstream: the request never arrives. (Downstream, http.server's close after its
    # answer would close the client too: a disconnect, not a hang.)
    f = fault("timeout", timeout_ms=0, direction="upstream")
    f.apply(ctx)
    with pytest.raises(httpx.ReadTimeout):
        get(url, timeout=0.5)
    f.heal(ctx)
    assert get(url).status_code == 200


def test_reset_peer_resets(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, url = world
    f = fault("reset_peer", direction="upstream")
    f.apply(ctx)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)):
        get(url)
    f.heal(ctx)
    assert get(url).status_code == 200


def test_limit_data_truncates(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, url = world
    f = fault("limit_data", bytes=50)
    f.apply(ctx)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        get(url, "/big.bin")
    f.heal(ctx)
    assert len(get(url, "/big.bin").content) == 200_000


def test_slicer_and_slow_close_keep_data_intact(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, url = world
    faults = [
        fault("slicer", average_size=64, size_variation=16, delay_us=10),
        fault("slow_close", delay_ms=10),
    ]
    for f in faults:
        f.apply(ctx)
    assert {t[0] for t in toxics(ctx)} == {"slicer", "slow_close"}
    assert get(url).text == "hello from upstream"
    for f in faults:
        f.heal(ctx)
    assert toxics(ctx) == []


def test_same_fault_twice_collides_loudly(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, _ = world
    f = fault("latency", latency_ms=10, direction="both")
    f.apply(ctx)
    with pytest.raises(FaultError, match="409"):
        f.apply(ctx)
    assert len(toxics(ctx)) == 2  # the failed apply left the first one alone
    f.heal(ctx)


def test_partial_apply_is_rolled_back(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, _ = world
    assert ctx.toxiproxy is not None
    f = fault("latency", latency_ms=10, direction="both")
    # Occupy the downstream name so the second half of the apply fails.
    ctx.toxiproxy.add_toxic("svc", "noop", name=f.toxic_name("downstream"))
    with pytest.raises(FaultError):
        f.apply(ctx)
    assert [t[0] for t in toxics(ctx)] == ["noop"]


def test_heal_after_the_proxy_is_gone(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, _ = world
    assert ctx.toxiproxy is not None
    for f in (fault("latency", latency_ms=10), fault("down")):
        f.apply(ctx)
    ctx.toxiproxy.delete_proxy("svc")
    fault("latency", latency_ms=10).heal(ctx)
    fault("down").heal(ctx)


def test_heal_all_clears_toxics_and_enables(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, url = world
    for f in (fault("latency", latency_ms=800), fault("limit_data", bytes=1), fault("down")):
        f.apply(ctx)
    done = heal_all(ctx)
    assert len(done) == 1 and "enabled" in done[0]
    assert toxics(ctx) == []
    assert timed(url) < 0.6


def test_network_fault_on_a_target_without_proxy(world: tuple[SimpleFaultContext, str]) -> None:
    ctx, _ = world
    with pytest.raises(FaultError, match="has no proxy; targets with one: svc"):
        from_json({"kind": "down", "target": "orchestrator"}).apply(ctx)
