"""Events through the choreography's broker, and the bundled choreography's orders/s.

    .venv/bin/python bench/broker.py [--events 5000] [--orders 200] [--repeat 3]

Starts the bundled choreography's topology (a NATS JetStream server, the embedded fault
proxy in front of it, six participants, five fakes). Then, on a stream of its own
(``BENCH``, so no participant sees it), from this process:

* JetStream publishes/s (each waiting for its ack) and pull-consume + ack/s, direct to
  the broker and through its fault proxy (no toxic);
* the choreography end to end: ``--orders`` orders placed at once, orders/s until the
  order view reports every one ended.

Each figure is the median over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nats  # noqa: E402

from fracas.harness.kit.waiting import wait_until  # noqa: E402
from fracas.harness.run.topology import Topology, TopologyConfig  # noqa: E402
from fracas.harness.run.workload import orders  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "choreography"))
from choreo_helpers import choreo_spec  # noqa: E402


async def _events(url: str, count: int) -> tuple[float, float]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    try:
        await js.delete_stream("BENCH")
    except nats.js.errors.NotFoundError:
        pass
    await js.add_stream(name="BENCH", subjects=["bench.>"])
    t = time.perf_counter()
    for i in range(count):
        await js.publish("bench.event", b'{"order_id": "ord-0001"}', headers={"Nats-Msg-Id": str(i)})
    published = count / (time.perf_counter() - t)
    sub = await js.pull_subscribe("bench.>", durable="bench", stream="BENCH")
    t, got = time.perf_counter(), 0
    while got < count:
        for msg in await sub.fetch(min(200, count - got), timeout=5):
            await msg.ack()
            got += 1
    consumed = count / (time.perf_counter() - t)
    await js.delete_stream("BENCH")
    await nc.close()
    return published, consumed


def _orders(topo: Topology, count: int, seed: int) -> float:
    topo.reset(seed)
    plans = orders(count, seed)
    t = time.perf_counter()
    for plan in plans:
        assert topo.orchestrator.submit(plan.order).accepted
    left = {p.order_id for p in plans}

    def ended() -> bool:
        for oid in list(left):
            if (topo.orchestrator.status(oid) or {}).get("status") in ("completed", "failed"):
                left.discard(oid)
        return not left

    wait_until(ended, 300, interval=0.05, what="every order ended")
    return count / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        topo = Topology.start(TopologyConfig(run_dir=Path(tmp), orchestrator=choreo_spec()))
        try:
            assert topo.broker is not None and topo.broker.process is not None
            urls = {"direct": topo.broker.process.url, "proxied": topo.broker.proxied_url}
            for i in range(args.repeat):
                for how, url in urls.items():
                    pub, con = asyncio.run(_events(url, args.events))
                    rows.setdefault(f"publish/s, {how}", []).append(pub)
                    rows.setdefault(f"consume+ack/s, {how}", []).append(con)
                rows.setdefault("orders/s, end to end", []).append(_orders(topo, args.orders, i))
        finally:
            topo.stop()
    print(f"| what ({args.events} events, {args.orders} orders, median of {args.repeat}) | figure |")
    print("|---|---|")
    for what, values in rows.items():
        print(f"| {what} | {statistics.median(values):,.0f} |")


if __name__ == "__main__":
    main()
