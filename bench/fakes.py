"""Throughput of the fakes' effectful calls, direct over loopback.

    .venv/bin/python bench/fakes.py [--seconds 3] [--workers 2] [--concurrency N] [--client raw]

Starts each fake as its own process (as the harness does), then drives it with
`--workers` client processes, each running `--concurrency` httpx requests at once, for
`--seconds`. Every effectful request carries a fresh Idempotency-Key, so each one is a
real committed effect plus its idempotency record and journal line. Prints one row per
fake: requests/s and latency percentiles. The clients share the CPU with the fake, so on
a small machine the figure is a lower bound of what one fake process can do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fracas.fakes.world import OK_TOKEN, build_world  # noqa: E402
from fracas.harness.run.services import start_fake  # noqa: E402

SEED = 7
WORLD = build_world(SEED)
ADDRESS = WORLD.ordinary_customers()[0].address.as_dict()
SKUS = [s.sku for s in WORLD.stocked_skus()]

# fake -> what one "operation" is (an operation may be more than one request)
OPERATIONS = {
    "crm": "GET /customers/{id} (read)",
    "payment": "POST /payments (keyed capture)",
    "inventory": "POST /reservations + /release (keyed)",
    "shipping": "POST /shipments (keyed)",
    "notify": "POST /messages (keyed)",
}


class Client:
    """What an operation needs from a client: send a request, get (status, JSON body)."""

    async def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        raise NotImplementedError


class HttpxClient(Client):
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        r = await self.client.request(method, path, json=body, headers=headers)
        return r.status_code, r.json()


class RawClient(Client):
    """A bare HTTP/1.1 keep-alive connection: next to no client CPU, so the fake is what
    is measured."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(payload)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        data = await self.reader.readexactly(length)
        return status, json.loads(data) if data else None


async def _one(client: Client, name: str, tag: str, n: int) -> int:
    """One operation; returns how many requests it made. Raises on an unexpected answer."""
    order = f"ord-{tag}-{n}"
    key = {"Idempotency-Key": f"{order}:{name}"}
    if name == "crm":
        status, _ = await client.send("GET", f"/customers/cus-{n % 40 + 1:04d}")
        assert status == 200
        return 1
    if name == "payment":
        body = {"order_id": order, "amount_cents": 1999, "currency": "EUR", "card_token": OK_TOKEN}
        status, _ = await client.send("POST", "/payments", body, key)
        assert status == 201
        return 1
    if name == "inventory":
        lines = [{"sku": SKUS[n % len(SKUS)], "qty": 1}]
        status, res = await client.send(
            "POST", "/reservations", {"order_id": order, "lines": lines}, key
        )
        assert status == 201
        path = f"/reservations/{res['reservation_id']}/release"
        status, _ = await client.send("POST", path, None, {"Idempotency-Key": f"{order}:release"})
        assert status == 200
        return 2
    if name == "shipping":
        body = {"order_id": order, "reservation_id": f"res-{n}", "address": ADDRESS}
        status, _ = await client.send("POST", "/shipments", body, key)
        assert status == 201
        return 1
    body = {"order_id": order, "customer_id": "cus-0001", "template": "order_confirmed"}
    status, _ = await client.send("POST", "/messages", body, key)
    assert status == 201
    return 1


async def _drive(
    url: str, name: str, worker: int, seconds: float, concurrency: int, kind: str
) -> dict[str, Any]:
    latencies: list[float] = []
    requests = 0
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    host, port = url.rsplit("/", 1)[1].split(":")
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as shared:

        async def loop(task: int) -> None:
            nonlocal requests, errors
            client: Client
            if kind == "raw":
                client = RawClient(*await asyncio.open_connection(host, int(port)))
            else:
                client = HttpxClient(shared)
            await ready.wait()
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                started = time.perf_counter()
                try:
                    made = await _one(client, name, f"{worker}-{task}", n)
                except (httpx.HTTPError, AssertionError, OSError, ValueError):
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000 / made)
                requests += made
            if isinstance(client, RawClient):
                client.writer.close()

        ready = asyncio.Event()
        tasks = [asyncio.ensure_future(loop(t)) for t in range(concurrency)]
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        deadline = started + seconds
        ready.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return {"requests": requests, "errors": errors, "elapsed": elapsed, "latencies": latencies}


def _worker(args: tuple[str, str, int, float, int, str]) -> dict[str, Any]:
    url, name, worker, seconds, concurrency, kind = args
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    return asyncio.run(_drive(url, name, worker, seconds, concurrency, kind))


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(
    name: str, root: Path, seconds: float, workers: int, concurrency: int, kind: str
) -> dict[str, Any]:
    fake = start_fake(name, root / name, SEED, timeout=30.0)
    try:
        jobs = [(fake.url, name, w, seconds, concurrency, kind) for w in range(workers)]
        with ProcessPoolExecutor(workers) as pool:
            pool.submit(int).result()  # fork the workers before the clock starts
            cpu_before = _cpu_seconds(fake.process.pid)
            results = list(pool.map(_worker, jobs))
            cpu = _cpu_seconds(fake.process.pid) - cpu_before
        effects = None
        state = httpx.get(f"{fake.url}/_fracas/state", timeout=30).json()["tables"]
        table = {"payment": "payments", "inventory": "reservations", "shipping": "shipments",
                 "notify": "messages"}.get(name)  # fmt: skip
        if table is not None:
            effects = len(state[table])
    finally:
        fake.stop()
    requests = sum(r["requests"] for r in results)
    elapsed = max(r["elapsed"] for r in results)
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "name": name,
        "requests": requests,
        "errors": sum(r["errors"] for r in results),
        "rate": requests / elapsed if elapsed else 0.0,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan"),
        "effects": effects,
        "cpu_us": cpu / requests * 1e6 if requests else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="requests in flight per worker (default 4 with httpx, 16 with raw)",
    )
    parser.add_argument("--only", choices=list(OPERATIONS), action="append")
    parser.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="httpx.AsyncClient (default) or a bare keep-alive socket client",
    )
    args = parser.parse_args(argv)
    names = args.only or list(OPERATIONS)
    if args.concurrency is None:
        args.concurrency = 4 if args.client == "httpx" else 16
    print(
        f"# {len(names)} fakes, {args.workers} client processes x {args.concurrency} in flight, "
        f"{args.seconds:g}s each, {args.client} clients, {os.cpu_count()} CPUs"
    )
    header = f"{'fake':<10} {'operation':<40} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'effects':>8} {'srv CPU us/req':>14} {'=> req/s/core':>13}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="fracas-fakes-bench-") as tmp:
        for name in names:
            row = bench(name, Path(tmp), args.seconds, args.workers, args.concurrency, args.client)
            effects = "-" if row["effects"] is None else str(row["effects"])
            print(
                f"{name:<10} {OPERATIONS[name]:<40} {row['requests']:>9} {row['rate']:>8.0f} "
                f"{row['p50']:>7.2f} {row['p99']:>7.2f} {row['errors']:>6} {effects:>8} "
                f"{row['cpu_us']:>14.0f} {1e6 / row['cpu_us']:>13.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
