"""A deliberately naive saga orchestrator, to show what fracas catches.

It implements the HTTP contract (docs/contract.md §2) in one file, with the classic
mistakes switchable by ``--bug`` (repeatable):

- ``no-idempotency``: retries a lost capture with no Idempotency-Key -> double charge
- ``no-compensation``: a failed order keeps its money and stock -> failed-ledger
- ``optimistic``: reports "completed" as soon as the payment is taken -> completed-ledger
- ``bad-report``: reports a payment id that no ledger has -> reported-truth
- ``amnesia``: keeps orders in memory only, so a crash forgets them -> liveness
- ``probe``: takes a test payment at start-up for an order nobody submitted -> orphan-effects
- ``give-up``: sends every order that meets an error to needs_attention -> needs-attention

Run it under fracas with ``--orchestrator "python examples/naive_orchestrator.py --bug ..."``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BUGS = ("no-idempotency", "no-compensation", "optimistic", "bad-report", "amnesia", "probe",
        "give-up")
TERMINAL = {"completed", "failed", "needs_attention"}


class Orders:
    """Orders kept in SQLite (or, with the amnesia bug, in a dict that dies with us)."""

    def __init__(self, state_dir: Path, memory: bool) -> None:
        self.memory: dict[str, dict[str, Any]] | None = {} if memory else None
        self.db = sqlite3.connect(state_dir / "naive.sqlite3", isolation_level=None)
        self.db.execute("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, doc TEXT)")

    def get(self, oid: str) -> dict[str, Any] | None:
        if self.memory is not None:
            return self.memory.get(oid)
        row = self.db.execute("SELECT doc FROM orders WHERE id = ?", (oid,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, doc: dict[str, Any]) -> None:
        if self.memory is not None:
            self.memory[doc["order_id"]] = doc
            return
        self.db.execute("INSERT OR REPLACE INTO orders VALUES (?, ?)",
                        (doc["order_id"], json.dumps(doc)))

    def unfinished(self) -> list[dict[str, Any]]:
        if self.memory is not None:
            return []
        rows = self.db.execute("SELECT doc FROM orders").fetchall()
        return [d for d in (json.loads(r[0]) for r in rows) if d["status"] not in TERMINAL]


class Naive:
    def __init__(self, bugs: set[str], state_dir: Path) -> None:
        self.bugs = bugs
        self.orders = Orders(state_dir, memory="amnesia" in bugs)
        self.url = {s: os.environ[f"FRACAS_{s.upper()}_URL"]
                    for s in ("crm", "payment", "inventory", "shipping", "notify")}
        self.http = httpx.AsyncClient(timeout=2.0)

    async def call(self, method: str, service: str, path: str, key: str | None,
                   body: Any = None) -> httpx.Response:
        headers = {} if key is None or "no-idempotency" in self.bugs else {"Idempotency-Key": key}
        for attempt in range(10):
            try:
                resp = await self.http.request(method, self.url[service] + path, json=body,
                                               headers=headers)
                if resp.status_code < 500 and resp.status_code != 429:
                    resp.json()  # an unreadable answer is retried like a lost one
                    return resp
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        raise RuntimeError(f"{method} {service}{path} kept failing")

    def save(self, doc: dict[str, Any], status: str, reason: str | None = None) -> None:
        if "optimistic" in self.bugs and doc.get("status") == "completed":
            return  # "we already told the customer": never takes it back
        doc["status"] = status
        if reason:
            doc["reason"] = reason
        self.orders.put(doc)

    async def saga(self, doc: dict[str, Any]) -> None:
        order, oid = doc["order"], doc["order_id"]
        done: list[tuple[str, str]] = []
        try:
            self.save(doc, "running")
            cust = await self.call("GET", "crm", f"/customers/{order['customer_id']}", None)
            if cust.status_code != 200 or cust.json()["status"] == "blocked":
                self.save(doc, "failed", "customer")
                if cust.status_code == 200:
                    await self.notify(order, "order_failed")
                return
            address = cust.json()["address"]
            quote = await self.call("POST", "shipping", "/quotes", None,
                                    {"address": address, "lines": order["lines"]})
            total = sum(li["qty"] * li["unit_price_cents"] for li in order["lines"])
            total += quote.json()["amount_cents"]
            pay = await self.call("POST", "payment", "/payments", f"{oid}:capture",
                                  {"order_id": oid, "amount_cents": total,
                                   "currency": order["currency"], "card_token": order["card_token"]})
            if pay.status_code != 201:
                self.save(doc, "failed", "declined")
                await self.notify(order, "order_failed")
                return
            done.append(("refund", pay.json()["payment_id"]))
            doc["payment_id"] = "pay-9999" if "bad-report" in self.bugs else pay.json()["payment_id"]
            if "optimistic" in self.bugs:
                self.save(doc, "completed")
            res = await self.call("POST", "inventory", "/reservations", f"{oid}:reserve",
                                  {"order_id": oid, "lines": [{"sku": li["sku"], "qty": li["qty"]}
                                                              for li in order["lines"]]})
            if res.status_code != 201:
                return await self.fail(doc, done, total, "out of stock")
            done.append(("release", res.json()["reservation_id"]))
            ship = await self.call("POST", "shipping", "/shipments", f"{oid}:ship",
                                   {"order_id": oid, "reservation_id": res.json()["reservation_id"],
                                    "address": address})
            if ship.status_code != 201:
                return await self.fail(doc, done, total, "undeliverable")
            await self.notify(order, "order_confirmed")
            self.save(doc, "completed")
        except Exception as exc:  # noqa: BLE001
            if "give-up" in self.bugs:
                self.save(doc, "needs_attention", str(exc))
            else:
                await self.fail(doc, done, 0, str(exc))

    async def fail(self, doc: dict[str, Any], done: list[tuple[str, str]], total: int,
                   reason: str) -> None:
        if "no-compensation" not in self.bugs:
            for what, ident in reversed(done):
                if what == "release":
                    await self.call("POST", "inventory", f"/reservations/{ident}/release",
                                    f"{doc['order_id']}:release")
                else:
                    await self.call("POST", "payment", f"/payments/{ident}/refunds",
                                    f"{doc['order_id']}:refund", {"amount_cents": total})
        await self.notify(doc["order"], "order_failed")
        self.save(doc, "failed", reason)

    async def notify(self, order: dict[str, Any], template: str) -> None:
        await self.call("POST", "notify", "/messages", f"{order['order_id']}:{template}",
                        {"order_id": order["order_id"], "customer_id": order["customer_id"],
                         "template": template})


def build_app(naive: Naive) -> Starlette:
    tasks: set[asyncio.Task[None]] = set()

    def start(doc: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(naive.saga(doc))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def submit(request: Request) -> JSONResponse:
        order = await request.json()
        known = naive.orders.get(order["order_id"])
        if known is not None:
            return JSONResponse({"order_id": known["order_id"], "status": known["status"]})
        doc = {"order_id": order["order_id"], "order": order, "status": "pending"}
        naive.orders.put(doc)
        start(doc)
        return JSONResponse({"order_id": doc["order_id"], "status": "pending"}, 202)

    async def status(request: Request) -> JSONResponse:
        doc = naive.orders.get(request.path_params["oid"])
        if doc is None:
            return JSONResponse({"title": "unknown order"}, 404)
        keys = ("order_id", "status", "reason", "payment_id")
        return JSONResponse({k: doc[k] for k in keys if k in doc})

    async def review(request: Request) -> JSONResponse:
        return JSONResponse({"title": "not awaiting review"}, 409)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for doc in naive.orders.unfinished():
            start(doc)
        if "probe" in naive.bugs:
            await naive.call("POST", "payment", "/payments", None,
                             {"order_id": "probe", "amount_cents": 100, "currency": "EUR",
                              "card_token": "tok_ok_probe"})
        yield

    return Starlette(routes=[
        Route("/orders", submit, methods=["POST"]),
        Route("/orders/{oid}", status),
        Route("/orders/{oid}/review", review, methods=["POST"]),
        Route("/healthz", healthz),
    ], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bug", action="append", default=[], choices=BUGS)
    args = parser.parse_args()
    host, port = os.environ["FRACAS_LISTEN"].rsplit(":", 1)
    naive = Naive(set(args.bug), Path(os.environ["FRACAS_STATE_DIR"]))
    uvicorn.run(build_app(naive), host=host, port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
