"""Benchmark: a full consistency check of a 100,000-order run, target <= 10 s.

Builds a consistent, realistic snapshot (all five ledgers, journals, history; a mix of
completed, declined, out-of-stock, undeliverable, blocked, unknown-customer and retried
orders) with the same synthetic world (SynthWorld) the tests use, then times the check per rule and
the resilience summary. Sizes are given so figures can be compared across machines.

    .venv/bin/python bench/checkers.py [--orders 100000] [--scaling]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "checkers"))

from synth_ledger import SynthWorld  # noqa: E402

from fracas.harness.checkers import CheckConfig, Snapshot, View, check  # noqa: E402
from fracas.harness.checkers.summary import summarize  # noqa: E402

LOST = {"rule_id": "lost-capture", "phase": "after_commit", "kind": "drop"}


def build(n_orders: int, seed: int = 7) -> Snapshot:
    rnd = random.Random(seed)
    w = SynthWorld(customers=2000, skus=500, stock=10_000_000, step=0.0005)
    served = [
        c["customer_id"]
        for c in w.customers
        if c["address"]["country"] != "US" and c["status"] == "active"
    ]
    unserved = [
        c["customer_id"]
        for c in w.customers
        if c["address"]["country"] == "US" and c["status"] == "active"
    ]
    blocked = [c["customer_id"] for c in w.customers if c["status"] == "blocked"]
    skus = list(w.stock)
    toxic = None
    for i in range(n_orders):
        oid = f"ord-{i:07d}"
        if i % 5000 == 0:  # a toxic on payment now and then, healed 2000 orders later
            toxic = w.history.fault_applied(
                {"type": "latency", "attributes": {"latency": 800}}, "payment"
            )
        elif i % 5000 == 2000 and toxic is not None:
            toxic.healed()
            toxic = None
        lines = [
            (rnd.choice(skus), rnd.randint(1, 3), rnd.randint(199, 9999))
            for _ in range(rnd.randint(1, 3))
        ]
        u = rnd.random()
        if u < 0.80:
            w.complete(oid, rnd.choice(served), lines)
        elif u < 0.85:
            w.fail_declined(oid, rnd.choice(served))
        elif u < 0.88:
            w.fail_out_of_stock(oid, rnd.choice(served))
        elif u < 0.92:
            w.fail_undeliverable(oid, rnd.choice(unserved))
        elif u < 0.94:
            w.fail_blocked(oid, rnd.choice(blocked))
        elif u < 0.95:
            w.fail_unknown_customer(oid, f"cus-{9000 + i % 500}")
        else:  # lost capture, retried and replayed, then the normal path
            w.order(oid, rnd.choice(served), lines)
            w.lookup(oid)
            pay = w.capture(oid, fault=LOST)
            w.replay("payment", "/payments", oid, pay["idempotency_key"], pay["payment_id"])
            res = w.reserve(oid)
            shp = w.ship(oid, res)
            w.notify(oid, "order_confirmed")
            w.report(
                oid,
                "completed",
                payment_id=pay["payment_id"],
                reservation_id=res["reservation_id"],
                shipment_id=shp["shipment_id"],
            )
    w.history.heal_all()
    return w.snapshot(settle_seconds=60.0)


def sizes(s: Snapshot) -> dict[str, int]:
    out = {
        f"{svc}.{t}": len(rows)
        for svc, led in s.ledgers.items()
        for t, rows in led["tables"].items()
    }
    out["journal entries"] = sum(len(v) for v in s.journals.values())
    out["history events"] = len(s.history.events) if s.history else 0
    return out


def run(n: int, detail: bool, broken: int = 0) -> tuple[float, float]:
    t = time.perf_counter()
    snap = build(n)
    built = time.perf_counter() - t
    gc.collect()
    view = View(snap, CheckConfig())
    cpu = time.process_time()
    result = check(snap, view=view)
    check_cpu = time.process_time() - cpu
    t, cpu = time.perf_counter(), time.process_time()
    summary = summarize(view)
    summ, summ_cpu = time.perf_counter() - t, time.process_time() - cpu
    if detail:
        print(f"built a {n:,}-order snapshot in {built:.1f} s")
        for k, v in sizes(snap).items():
            print(f"  {k:<24} {v:>10,}")
        print()
        print(f"{'phase':<24} {'seconds':>8}")
        print(f"{'-' * 24} {'-' * 8}")
        for name, sec in result.rule_seconds.items():
            print(f"{name:<24} {sec:8.3f}")
        print(f"{'full check':<24} {result.seconds:8.3f}   (CPU {check_cpu:.3f})")
        print(f"{'resilience summary':<24} {summ:8.3f}   (CPU {summ_cpu:.3f})")
        print(f"{'check + summary':<24} {result.seconds + summ:8.3f}")
        print(
            f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
        )
        print()
        print(f"violations: {len(result.violations)}, rule errors: {len(result.errors)}")
        print(f"outcomes: {summary['outcomes']}")
        if broken:
            payments = snap.ledgers["payment"]["tables"]["payments"]
            for p in payments[:: max(1, len(payments) // broken)][:broken]:
                p["refunded_cents"] += 1  # a cent refunded: the order no longer adds up
            cpu = time.process_time()
            bad = check(snap)
            bad_cpu = time.process_time() - cpu
            print()
            print(f"{broken} orders broken by hand: {len(bad.violations)} violations found")
            print(f"{'full check + witnesses':<24} {bad.seconds:8.3f}   (CPU {bad_cpu:.3f})")
            print(f"{'  of which witnesses':<24} {bad.rule_seconds['(witness)']:8.3f}")
            print("first:", bad.violations[0].account[:300] if bad.violations else "-")
    return result.seconds, summ


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--scaling", action="store_true", help="also time 10k / 30k orders")
    p.add_argument(
        "--broken", type=int, default=100, help="then break this many orders and check again"
    )
    a = p.parse_args()
    if a.scaling:
        print(f"{'orders':>8} {'check s':>8} {'summary s':>9} {'us/order':>8}")
        for n in (10_000, 30_000):
            c, s = run(n, False)
            print(f"{n:>8,} {c:8.3f} {s:9.3f} {1e6 * c / n:8.1f}")
        print()
    c, _ = run(a.orders, True, a.broken)
    return 0 if c <= 10.0 else 1


if __name__ == "__main__":
    sys.exit(main())
