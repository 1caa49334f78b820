"""All three families on one real fake behind the embedded proxy, then heal_all."""

from __future__ import annotations

from pathlib import Path

import httpx
from faults_support import proc_state

from fracas.harness.faults import SimpleFaultContext, from_json, heal_all
from fracas.harness.kit.net import LOOPBACK
from fracas.harness.kit.toxiclient import ToxiClient
from fracas.harness.kit.waiting import wait_until


def test_heal_all_after_a_mix_of_faults(tmp_path: Path, toxiproxy_url: str) -> None:
    from fracas.harness.run.services import start_fake

    fake = start_fake("crm", tmp_path / "crm", seed=3)
    client = ToxiClient(toxiproxy_url)
    try:
        proxy = client.create_proxy("crm", f"{LOOPBACK}:{fake.port}")
        ctx = SimpleFaultContext(
            toxiproxy=client,
            proxies={"crm": "crm"},
            admin_urls={"crm": fake.url},
            processes={"crm": fake.process},
            health={"crm": fake.healthy},
        )
        via_proxy = f"http://{LOOPBACK}:{proxy.port}/customers/cus-0001"
        assert httpx.get(via_proxy, trust_env=False, timeout=3).status_code == 200
        for data in (
            {"kind": "latency", "target": "crm", "params": {"latency_ms": 2000}},
            {"kind": "down", "target": "crm"},
            {"kind": "status", "target": "crm", "params": {"status": 500}},
            {"kind": "pause", "target": "crm"},
        ):
            from_json(data).apply(ctx)
        wait_until(lambda: proc_state(fake.process.pid) == "T", 5, what="crm stopped")
        # pause is healed first, or the admin API could not clear the rules
        done = heal_all(ctx)
        assert done[0] == "crm: resumed" and len(done) == 3
        answer = httpx.get(via_proxy, trust_env=False, timeout=1.5)
        assert answer.status_code == 200 and answer.json()["customer_id"] == "cus-0001"
        from_json({"kind": "kill", "target": "crm"}).apply(ctx)
        assert heal_all(ctx)[0] == "crm: restarted"
        assert httpx.get(via_proxy, trust_env=False, timeout=3).status_code == 200
    finally:
        client.close()
        fake.stop()
