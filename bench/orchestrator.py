"""Happy-path throughput and latency of the bundled orchestrator, everything on this machine.

    .venv/bin/python bench/orchestrator.py --seconds 60 --rate 150

Starts the five fakes and the orchestrator as real processes (or uses the ones you
name: ``--crm-url`` ... for fakes behind a proxy, ``--orchestrator-url`` for a running
orchestrator), offers orders at ``--rate`` per second (open loop, so a slow system shows
up as latency instead of being hidden by a closed loop), and reports orders/s and the
p50/p99 latency from ``POST /orders`` to seeing the order ``completed`` (long-poll
``GET /orders/{id}?wait=``).

The seeded world has ~3000 units of stock, fewer than a 60 s run at 150/s consumes, so
a restocker resets the inventory fake to its seed every few seconds (admin API, a few
milliseconds). In-flight orders are unaffected: shipping does not re-read reservations.

``--py-spy`` samples the orchestrator with py-spy (cheap, unlike cProfile, whose
overhead on this call-heavy code made it 5x slower and distorted the picture) and
prints where its time went; each process's CPU seconds per order are always printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fracas.fakes.world import OK_TOKEN, build_world  # noqa: E402
from fracas.harness.kit.net import free_port  # noqa: E402
from fracas.harness.kit.procs import ManagedProcess, python_argv  # noqa: E402
from fracas.harness.kit.proctable import rss_mb  # noqa: E402
from fracas.harness.run.services import SERVICES, FakeProcess, spawn_fake  # noqa: E402
from fracas.orchestrator.http import HttpClient, HttpError  # noqa: E402

JSON_HEADERS = {"Content-Type": "application/json"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0, help="measured duration")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    p.add_argument("--rate", type=float, default=150.0, help="orders offered per second")
    p.add_argument("--max-outstanding", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--restock-every", type=float, default=5.0)
    p.add_argument(
        "--py-spy", action="store_true", help="sample the orchestrator with py-spy (cheap)"
    )
    p.add_argument("--via-proxy", action="store_true",
                   help="put every fake behind fracas's embedded proxy (no toxics), as in a run")
    p.add_argument("--orchestrator-url", default=None)
    p.add_argument("--orchestrator-profile", default="default", help="its --profile")
    p.add_argument("--no-transition-log", action="store_true")
    p.add_argument("--orchestrator-http-client", choices=("fast", "httpx"), default="fast")
    for s in SERVICES:
        p.add_argument(f"--{s}-url", default=None, help=f"use this {s} (e.g. via a proxy)")
    p.add_argument("--inventory-admin-url", default=None, help="for restocking via a proxy")
    return p.parse_args(argv)


def cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of a live process, from /proc (Linux)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarise_py_spy(path: Path, top: int = 25) -> None:
    """Own and inclusive share of samples per function, from py-spy's collapsed stacks."""
    if not path.exists():
        print(f"(no py-spy output at {path})")
        return
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    total = 0
    for raw in path.read_text().splitlines():
        stack, _, count_text = raw.rpartition(" ")
        if not stack:
            continue
        n = int(count_text)
        frames = [f.split(" (")[0] + " " + f.split(" (")[-1].rstrip(")").rsplit("/", 1)[-1]
                  for f in stack.split(";")]  # fmt: skip
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
        leaf_files = [f for f in stack.split(";")]
        by_area[_area(leaf_files[-1])] += n
    print(f"\n--- py-spy: {total} samples of the orchestrator (idle included) ---")
    print("by area of the leaf frame:")
    for area, n in by_area.most_common(12):
        print(f"  {100 * n / total:5.1f}%  {area}")
    print("own time (leaf):")
    for f, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {f}")
    print("inclusive:")
    for f, n in incl.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {f}")


def _area(frame: str) -> str:
    for marker, area in (
        ("orchestrator/", "orchestrator code"), ("httpcore", "httpx/httpcore (client)"),
        ("httpx", "httpx/httpcore (client)"), ("anyio", "anyio"), ("uvicorn", "uvicorn (server)"),
        ("starlette", "starlette"), ("sqlite", "sqlite"), ("json", "json"),
        ("asyncio", "asyncio/uvloop"), ("uvloop", "asyncio/uvloop"), ("h11", "h11 (client parser)"),
    ):  # fmt: skip
        if marker in frame:
            return area
    return frame.split(" (")[-1].rsplit("/", 1)[-1].rstrip(")")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(args: argparse.Namespace, orch_url: str, inventory_url: str) -> dict[str, Any]:
    world = build_world(args.seed)
    customers = [c.customer_id for c in world.ordinary_customers()]
    skus = [s.sku for s in world.stocked_skus(40)]
    rng = random.Random(args.seed)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    outstanding = 0
    run_id = f"b{int(time.time())}"
    measured_from = time.monotonic() + args.warmup
    stop_at = measured_from + args.seconds

    # The load generator uses the orchestrator's own lean HTTP client: on a 2-core box
    # httpx here would cost more CPU than the system under test.
    http = HttpClient(orch_url, max_connections=args.max_outstanding)
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as admin:

        async def one(n: int) -> None:
            nonlocal errors, outstanding
            oid = f"{run_id}-{n:06d}"
            body = {
                "order_id": oid,
                "customer_id": rng.choice(customers),
                "currency": "EUR",
                "card_token": OK_TOKEN,
                "lines": [{"sku": rng.choice(skus), "qty": 1, "unit_price_cents": 1999}],
            }
            t0 = time.monotonic()
            try:
                r = await http.request(
                    "POST", "/orders", headers=JSON_HEADERS, content=json.dumps(body).encode(),
                    params=None, timeout=60.0,
                )  # fmt: skip
                if r.status >= 300:
                    raise HttpError(f"POST /orders: {r.status}")
                status = "pending"
                while status in ("pending", "running"):
                    g = await http.request(
                        "GET", f"/orders/{oid}", headers={}, content=None,
                        params={"wait": "30"}, timeout=60.0,
                    )  # fmt: skip
                    if g.status != 200:
                        raise HttpError(f"GET /orders/{oid}: {g.status}")
                    status = json.loads(g.content)["status"]
            except HttpError:
                errors += 1
                return
            finally:
                outstanding -= 1
            t1 = time.monotonic()
            if t0 >= measured_from and t1 <= stop_at + 30:
                statuses[status] = statuses.get(status, 0) + 1
                if status == "completed":
                    latencies.append(t1 - t0)

        async def restocker() -> None:
            while True:
                await asyncio.sleep(args.restock_every)
                try:
                    await admin.post(f"{inventory_url}/_fracas/reset", json={"seed": args.seed})
                except httpx.HTTPError:
                    pass

        restock = asyncio.create_task(restocker())
        tasks: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        n = 0
        offered_measured = 0
        dropped = 0
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            due = int((now - start) * args.rate)
            while n < due:
                if outstanding >= args.max_outstanding:
                    dropped += 1
                    n += 1
                    continue
                outstanding += 1
                t = asyncio.create_task(one(n))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
                if now >= measured_from:
                    offered_measured += 1
                n += 1
            await asyncio.sleep(0.002)
        submitted_until = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        restock.cancel()
        drained = time.monotonic()
    await http.aclose()

    return {
        "offered": offered_measured,
        "dropped": dropped,
        "completed": len(latencies),
        "statuses": statuses,
        "errors": errors,
        "window": submitted_until - measured_from,
        "drain": drained - submitted_until,
        "latencies": latencies,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="fracas-orchbench-"))
    fakes: dict[str, FakeProcess] = {}
    urls: dict[str, str] = {}
    orch: ManagedProcess | None = None
    backend = None
    try:
        for s in SERVICES:
            given = getattr(args, f"{s}_url")
            if given:
                urls[s] = given.rstrip("/")
            else:
                fakes[s] = spawn_fake(s, tmp / s, args.seed)
                urls[s] = fakes[s].url
        for fake in fakes.values():
            fake.wait_healthy(30.0)
        if args.via_proxy:
            from fracas.harness.backends import EmbeddedBackend

            backend = EmbeddedBackend(seed=args.seed, log_dir=tmp)
            backend.start()
            made = backend.client.populate(
                [{"name": s, "listen": "127.0.0.1:0", "upstream": urls[s].split("//", 1)[1]}
                 for s in fakes]
            )
            urls.update({p.name: f"http://127.0.0.1:{p.port}" for p in made})
            print(f"services behind the embedded proxy at {backend.base_url}")
        inventory_admin = args.inventory_admin_url or (
            fakes["inventory"].url if "inventory" in fakes else urls["inventory"]
        )
        if args.orchestrator_url:
            orch_url = args.orchestrator_url.rstrip("/")
        else:
            port = free_port()
            env = dict(os.environ)
            env.update({f"FRACAS_{s.upper()}_URL": u for s, u in urls.items()})
            env["FRACAS_LISTEN"] = f"127.0.0.1:{port}"
            env["FRACAS_STATE_DIR"] = str(tmp / "orchestrator")
            env["FRACAS_PROFILE"] = args.orchestrator_profile
            env["FRACAS_HTTP_CLIENT"] = args.orchestrator_http_client
            if args.no_transition_log:
                env["FRACAS_TRANSITION_LOG"] = "0"
            orch = ManagedProcess(
                "orchestrator", python_argv("fracas.orchestrator"), tmp / "orchestrator.log", env=env
            )
            orch.start()
            orch_url = f"http://127.0.0.1:{port}"

            def healthy() -> bool:
                try:
                    return httpx.get(f"{orch_url}/healthz", timeout=0.5).status_code == 200
                except httpx.HTTPError:
                    return False

            orch.wait_healthy(healthy, 30.0)

        load = os.getloadavg()
        procs = {name: f.process.pid for name, f in fakes.items()}
        if orch is not None:
            procs["orchestrator"] = orch.pid
        cpu_before = {name: cpu_seconds(pid) for name, pid in procs.items()}
        self_before = os.times()
        wall0 = time.monotonic()
        spy: subprocess.Popen[bytes] | None = None
        spy_out = tmp / "orchestrator.pyspy.txt"
        if args.py_spy and orch is not None and orch.pid is not None:
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(orch.pid),
                 "--format", "raw", "--rate", "200", "--nonblocking", "-o", str(spy_out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        memory: list[dict[str, float | None]] = []
        sampling = threading.Event()

        def sample() -> None:  # each process's resident memory, once a second
            while not sampling.wait(1.0):
                memory.append({name: rss_mb(pid) for name, pid in procs.items()})

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = asyncio.run(drive(args, orch_url, inventory_admin))
        sampling.set()
        sampler.join(5.0)
        wall = time.monotonic() - wall0
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
        self_after = os.times()
        cpu = {}
        for name, pid in procs.items():
            before, after = cpu_before[name], cpu_seconds(pid)
            if before is not None and after is not None:
                cpu[name] = after - before
        cpu["bench client"] = (self_after.user + self_after.system) - (
            self_before.user + self_before.system
        )
        lat = result["latencies"]
        rate = result["completed"] / result["window"] if result["window"] > 0 else 0.0
        print(f"machine: {os.cpu_count()} cores, load average before the run {load[0]:.2f}")
        print(
            f"offered {args.rate:.0f}/s for {result['window']:.1f} s "
            f"({result['offered']} orders, {result['dropped']} not offered: too many outstanding)"
        )
        print(f"completed {result['completed']}  ->  {rate:.1f} orders/s")
        print(f"statuses {result['statuses']}  errors {result['errors']}  "
              f"drain after last submit {result['drain']:.2f} s")  # fmt: skip
        if lat:
            print(
                f"latency p50 {pct(lat, 0.50) * 1000:.0f} ms  p90 {pct(lat, 0.90) * 1000:.0f} ms  "
                f"p99 {pct(lat, 0.99) * 1000:.0f} ms  max {max(lat) * 1000:.0f} ms  "
                f"mean {statistics.fmean(lat) * 1000:.0f} ms"
            )
        print(f"load average after the run {os.getloadavg()[0]:.2f}")
        done = max(1, sum(result["statuses"].values()))
        print(f"CPU seconds over {wall:.1f} s wall (all orders incl. warm-up and drain):")
        for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
            print(
                f"  {name:14s} {seconds:7.2f} s  {100 * seconds / wall:5.1f}% of one core"
                f"  ~{1000 * seconds / done:.2f} ms per measured order"
            )
        tenth = max(1, len(memory) // 10)
        if len(memory) >= 2:
            print(f"resident memory, first tenth of the run -> last tenth ({len(memory)} samples):")
            for name in procs:
                first = [m[name] for m in memory[:tenth] if m.get(name) is not None]
                last = [m[name] for m in memory[-tenth:] if m.get(name) is not None]
                if first and last:
                    a, b = statistics.fmean(first), statistics.fmean(last)  # type: ignore[arg-type]
                    print(f"  {name:14s} {a:6.1f} -> {b:6.1f} MB  ({100 * (b - a) / a:+.1f}%)")
    finally:
        if orch is not None:
            orch.stop(timeout=15.0)
        for fake in fakes.values():
            fake.stop()
        if backend is not None:
            backend.stop()
    if args.py_spy:
        summarise_py_spy(tmp / "orchestrator.pyspy.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
