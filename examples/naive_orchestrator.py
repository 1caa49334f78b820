"""A small saga orchestrator with classic mistakes you can switch on, to show what fracas catches.

It implements the HTTP contract (docs/contract.md §2) in one file. With no ``--bug`` it
is correct: it keeps every order in SQLite, sends every effect with an Idempotency-Key
that is the same on every attempt and after a restart, retries lost, garbled and 5xx
answers until the service answers, checks an answer before it believes it, asks a
person to review high-risk customers (with a review timeout on a clock a test may
advance: ``POST /_admin/clock/advance``) and undoes what it did when an order fails.
A restart re-runs every unfinished order from the top: the services replay the stored
answer of every step already done, so the order goes on where it was.

Each ``--bug`` (repeatable) is one realistic mistake, with the fracas rule that names it:

- ``no-idempotency``: the payment calls carry no Idempotency-Key, so a retried capture
  whose answer was lost charges twice -> double-charge
- ``no-compensation``: a failed order keeps its money and stock -> failed-ledger
- ``optimistic``: once an order is paid it is as good as done: a failure after the payment
  is undone but reported "completed" -> completed-ledger
- ``bad-report``: reports a payment id that no ledger has -> reported-truth
- ``amnesia``: keeps orders in memory only, so a crash forgets them -> liveness
- ``probe``: takes a test payment at start-up for an order nobody submitted -> orphan-effects
- ``give-up``: a call that fails three times sends the order to needs_attention, even
  though the service is back a moment later -> needs-attention
- ``key-per-attempt``: makes a fresh Idempotency-Key for every attempt, so a retry is a
  new request -> double-charge (a repeated reservation, shipment or message:
  completed-ledger)
- ``unkeyed-notify``: sends the notification with no key, before the order's state is
  saved; a crash in between, or a lost answer, sends it twice -> completed-ledger
  (failed-ledger for a second order_failed)
- ``first-5xx``: takes a 5xx as a "no" instead of retrying; a 5xx after the effect was
  made leaves it behind -> failed-ledger (completed-ledger for a lost notification)
- ``review-timeout``: the review deadline is never checked, so an order nobody reviews
  waits forever -> liveness
- ``line-by-line``: reserves each line on its own; an order has several reservations, and
  when a later line is out of stock the earlier ones stay held -> completed-ledger,
  failed-ledger
- ``trust-answers``: believes any 2xx answer; one with fields missing or of the wrong type
  makes it fail the order without undoing the step it could not read -> failed-ledger
  (a garbled answer to a call that made no effect is taken as done: completed-ledger)
- ``timeout-declined``: a capture that times out (no answer within the call timeout) is
  taken as declined: the order fails, and a capture that commits late stays charged
  -> failed-ledger
- ``resume-once``: after a restart it resumes each unfinished order once only, a guard
  against an order that crashes the service every time; an order caught by two crashes
  is never resumed again (needs two faults on one order) -> liveness
- ``resume-pending``: after a restart it resumes only orders still ``pending``; one that
  was running when it crashed stays ``running`` forever -> liveness
- ``fail-first``: saves a failing order as ``failed`` before it undoes its steps; a crash
  while compensating leaves the money or stock behind, and a restart never looks at a
  finished order again -> failed-ledger
- ``confirm-early``: tells the customer the order is confirmed as soon as it is paid,
  before stock and shipping are confirmed; an order that then fails had a confirmation
  -> failed-ledger
- ``customer-key``: keys each message by customer and template ("never send a customer
  the same message twice"), so a second order of the same customer has its message
  refused as a reused key, and nobody hears of it -> completed-ledger, failed-ledger
- ``review-twice``: takes a review decision whenever it comes, not only while the order
  awaits review; a reject that comes after an approve (a reviewer who changed their
  mind, a webhook replayed) undoes the order on the spot: refund, release,
  ``order_failed``, while the saga may go on -> completed-ledger or failed-ledger (an
  ``order_failed`` beside the confirmation), input-effects when it ends failed
- ``resubmit``: ``POST /orders`` with a known order id and another body starts the order
  again with the new body ("the client knows best"), beside the saga already running
  -> completed-ledger or failed-ledger (the second saga's refused capture fails the
  order beside the first), input-effects when what was charged or held is the new body's

Its call timeout, the time it waits for one answer before it treats the call as lost and
retries it, is ``CALL_TIMEOUT`` (5 s, ``--call-timeout`` to change it): real HTTP clients
of payment services use 5 to 30 s.

Run it under fracas with ``--orchestrator "python examples/naive_orchestrator.py --bug ..."``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BUGS = ("no-idempotency", "no-compensation", "optimistic", "bad-report", "amnesia", "probe",
        "give-up", "key-per-attempt", "unkeyed-notify", "first-5xx", "review-timeout",
        "line-by-line", "trust-answers", "timeout-declined", "resume-once", "resume-pending",
        "fail-first", "confirm-early", "customer-key", "review-twice", "resubmit")
TERMINAL = {"completed", "failed", "needs_attention"}
CALL_TIMEOUT = 5.0  # seconds to wait for one answer (connect, write, read): see the docstring
REVIEW_TIMEOUT = 48 * 3600.0  # seconds on the orchestrator's clock
REPORTED = ("order_id", "status", "reason", "payment_id", "reservation_id", "shipment_id")

#: What a 2xx answer must hold before it is believed, by call: field -> type.
EXPECTED: dict[str, dict[str, type]] = {
    "crm": {"status": str, "risk": str, "address": dict},
    "quote": {"amount_cents": int},
    "capture": {"payment_id": str},
    "refund": {"refund_id": str},
    "reserve": {"reservation_id": str},
    "release": {"status": str},
    "ship": {"shipment_id": str},
    "notify": {"message_id": str},
}


class GiveUp(Exception):
    """A call failed more often than the (buggy) retry budget allows."""


class Orders:
    """Orders and the clock offset, in SQLite; each order is one shared dict while we run.

    With the amnesia bug there is no file: the dicts die with the process."""

    def __init__(self, state_dir: Path | None) -> None:
        self.live: dict[str, dict[str, Any]] = {}
        self.db = None
        if state_dir is not None:
            self.db = sqlite3.connect(state_dir / "naive.sqlite3", isolation_level=None)
            self.db.execute("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, doc TEXT)")

    def get(self, oid: str) -> dict[str, Any] | None:
        if oid not in self.live and self.db is not None:
            row = self.db.execute("SELECT doc FROM orders WHERE id = ?", (oid,)).fetchone()
            if row:
                self.live[oid] = json.loads(row[0])
        return self.live.get(oid)

    def put(self, doc: dict[str, Any]) -> None:
        self.live[doc["order_id"]] = doc
        if self.db is not None:
            self.db.execute("INSERT OR REPLACE INTO orders VALUES (?, ?)",
                            (doc["order_id"], json.dumps(doc)))

    def unfinished(self) -> list[dict[str, Any]]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM orders")] if self.db else []
        docs = [self.get(oid) for oid in ids]
        return [d for d in docs if d is not None and d["status"] not in TERMINAL]

    # The clock a test may advance: the offset is an order-less row, so it survives a crash.
    def clock_offset(self) -> float:
        doc = self.get("_clock")
        return float(doc["offset"]) if doc else 0.0

    def advance(self, seconds: float) -> None:
        self.put({"order_id": "_clock", "status": "completed",
                  "offset": self.clock_offset() + seconds})


class Naive:
    def __init__(self, bugs: set[str], state_dir: Path,
                 call_timeout: float = CALL_TIMEOUT) -> None:
        self.bugs = bugs
        self.orders = Orders(None if "amnesia" in bugs else state_dir)
        self.url = {s: os.environ[f"FRACAS_{s.upper()}_URL"]
                    for s in ("crm", "payment", "inventory", "shipping", "notify")}
        self.http = httpx.AsyncClient(timeout=call_timeout)

    def now(self) -> float:
        return time.time() + self.orders.clock_offset()

    async def call(self, check: str, method: str, service: str, path: str, oid: str,
                   key: str | None, body: Any = None) -> httpx.Response:
        """One call, retried with the same key until the answer is a readable decision."""
        if service == "payment" and "no-idempotency" in self.bugs:
            key = None
        attempt = 0
        while True:
            attempt += 1
            headers = {"X-Correlation-ID": oid}
            if key is not None:
                headers["Idempotency-Key"] = f"{key}:{uuid.uuid4().hex[:8]}" \
                    if "key-per-attempt" in self.bugs else key
            try:
                resp = await self.http.request(method, self.url[service] + path, json=body,
                                               headers=headers)
                if resp.status_code >= 500 and "first-5xx" in self.bugs:
                    return resp  # "the service said no"
                if resp.status_code < 500 and resp.status_code != 429 and \
                        self.readable(resp, check):
                    return resp
            except httpx.TimeoutException:
                if check == "capture" and "timeout-declined" in self.bugs:
                    return httpx.Response(402, json={"title": "timed out: declined"})
            except httpx.HTTPError:
                pass  # lost: maybe it happened, maybe not; the same key makes it safe to ask
            if "give-up" in self.bugs and attempt >= 3:
                raise GiveUp(f"{method} {service}{path} failed {attempt} times")
            await asyncio.sleep(min(0.05 * 2**attempt, 0.5))

    def readable(self, resp: httpx.Response, check: str) -> bool:
        """A decision we can act on: any 4xx, or a 2xx whose body has what we will read."""
        if resp.status_code >= 300 or "trust-answers" in self.bugs:
            return True
        try:
            body = resp.json()
        except ValueError:
            return False
        return isinstance(body, dict) and all(
            type(body.get(k)) is t for k, t in EXPECTED[check].items())  # bool is no int

    def save(self, doc: dict[str, Any], status: str, reason: str | None = None) -> None:
        if "optimistic" in self.bugs and status == "failed" and "payment_id" in doc:
            status = "completed"  # "it is paid, so it is done"
        doc["status"] = status
        if reason:
            doc["reason"] = reason
        self.orders.put(doc)

    async def saga(self, doc: dict[str, Any]) -> None:
        order, oid = doc["order"], doc["order_id"]
        done: list[tuple[str, str]] = []  # effects to undo if the order fails, in order made
        total = 0
        try:
            self.save(doc, doc["status"] if doc["status"] == "awaiting_review" else "running")
            cust = await self.call("crm", "GET", "crm", f"/customers/{order['customer_id']}"
                                   f"?order_id={oid}", oid, None)
            if cust.status_code != 200 or cust.json()["status"] == "blocked":
                if cust.status_code == 200:  # a customer we can tell
                    await self.notify(doc, "order_failed")
                return self.save(doc, "failed", "customer")
            if cust.json()["risk"] == "high" and not await self.reviewed(doc):
                await self.notify(doc, "order_failed")
                return self.save(doc, "failed", doc["reason"])
            address = cust.json()["address"]
            quote = await self.call("quote", "POST", "shipping", "/quotes", oid, None,
                                    {"order_id": oid, "address": address, "lines": order["lines"]})
            total = sum(li["qty"] * li["unit_price_cents"] for li in order["lines"])
            total += quote.json()["amount_cents"]
            pay = await self.call("capture", "POST", "payment", "/payments", oid, f"{oid}:capture",
                                  {"order_id": oid, "amount_cents": total,
                                   "currency": order["currency"], "card_token": order["card_token"]})
            if pay.status_code != 201:
                await self.notify(doc, "order_failed")
                return self.save(doc, "failed", "declined")
            done.append(("refund", pay.json()["payment_id"]))
            doc["charged"] = total
            if "confirm-early" in self.bugs:
                await self.notify(doc, "order_confirmed")  # "the customer wants to know now"
            doc["payment_id"] = "pay-9999" if "bad-report" in self.bugs else pay.json()["payment_id"]
            reservation = await self.reserve(doc, done)
            if reservation is None:
                return await self.fail(doc, done, total, "out of stock")
            ship = await self.call("ship", "POST", "shipping", "/shipments", oid, f"{oid}:ship",
                                   {"order_id": oid, "reservation_id": reservation,
                                    "address": address})
            if ship.status_code != 201:
                return await self.fail(doc, done, total, "undeliverable")
            doc["shipment_id"] = ship.json()["shipment_id"]
            if "confirm-early" not in self.bugs:
                await self.notify(doc, "order_confirmed")
            self.save(doc, "completed")
        except GiveUp as exc:
            self.save(doc, "needs_attention", str(exc))
        except Exception as exc:  # noqa: BLE001 - an answer we misread: undo what we know
            await self.fail(doc, done, total, f"{type(exc).__name__}: {exc}")

    async def reviewed(self, doc: dict[str, Any]) -> bool:
        """Wait for a person's decision; True when approved. Rejected or timed out: False."""
        if "review_deadline" not in doc:
            doc["review_deadline"] = self.now() + REVIEW_TIMEOUT
            self.save(doc, "awaiting_review")
        while doc.get("decision") is None:
            if self.timed_out(doc):
                # Saved before anything is sent: a decision that comes now is refused,
                # and a restart does not take one that slipped in for the outcome.
                self.save(doc, "running", "review timed out")
                return False
            await asyncio.sleep(0.05)
        doc["reason"] = "review rejected"
        self.save(doc, "running")
        return bool(doc["decision"] == "approve")

    def timed_out(self, doc: dict[str, Any]) -> bool:
        """The review's deadline has passed on our clock (the ``review-timeout`` bug never
        looks)."""
        deadline = doc.get("review_deadline")
        return deadline is not None and self.now() >= deadline and "review-timeout" not in self.bugs

    async def reserve(self, doc: dict[str, Any], done: list[tuple[str, str]]) -> str | None:
        """Hold all lines at once (all or nothing); the reservation id, or None if short."""
        oid, lines = doc["order_id"], [{"sku": li["sku"], "qty": li["qty"]}
                                        for li in doc["order"]["lines"]]
        batches = [[li] for li in lines] if "line-by-line" in self.bugs else [lines]
        for i, batch in enumerate(batches):
            res = await self.call("reserve", "POST", "inventory", "/reservations", oid,
                                  f"{oid}:reserve:{i}", {"order_id": oid, "lines": batch})
            if res.status_code != 201:
                return None  # with line-by-line, the lines held so far are never undone
            doc["reservation_id"] = res.json()["reservation_id"]
        done.append(("release", doc["reservation_id"]))
        return str(doc["reservation_id"])

    async def fail(self, doc: dict[str, Any], done: list[tuple[str, str]], total: int,
                   reason: str) -> None:
        oid = doc["order_id"]
        if "fail-first" in self.bugs:
            self.save(doc, "failed", reason)  # "the order is failed; cleaning up can follow"
        if "no-compensation" not in self.bugs:
            for what, ident in reversed(done):
                if what == "release":
                    await self.call("release", "POST", "inventory",
                                    f"/reservations/{ident}/release", oid, f"{oid}:release")
                else:
                    await self.call("refund", "POST", "payment", f"/payments/{ident}/refunds",
                                    oid, f"{oid}:refund", {"amount_cents": total})
        await self.notify(doc, "order_failed")
        self.save(doc, "failed", reason)

    async def notify(self, doc: dict[str, Any], template: str) -> None:
        """Tell the customer; the state is saved after this, so a restart may send it again
        and only the key stops the second message."""
        order = doc["order"]
        key = None if "unkeyed-notify" in self.bugs else f"{doc['order_id']}:{template}"
        if "customer-key" in self.bugs:
            key = f"{order['customer_id']}:{template}"
        await self.call("notify", "POST", "notify", "/messages", doc["order_id"], key,
                        {"order_id": doc["order_id"], "customer_id": order["customer_id"],
                         "template": template})


    async def revoke(self, doc: dict[str, Any]) -> None:
        """The ``review-twice`` bug's late reject: undo what the order holds, fail it."""
        oid = doc["order_id"]
        if doc.get("reservation_id"):
            await self.call("release", "POST", "inventory",
                            f"/reservations/{doc['reservation_id']}/release", oid, f"{oid}:release")
        if doc.get("payment_id") and doc.get("charged"):
            await self.call("refund", "POST", "payment", f"/payments/{doc['payment_id']}/refunds",
                            oid, f"{oid}:refund", {"amount_cents": doc["charged"]})
        await self.notify(doc, "order_failed")
        self.save(doc, "failed", "review rejected")

    async def probe(self) -> None:
        """A test payment "to check the gateway works", for an order nobody submitted."""
        await self.call("capture", "POST", "payment", "/payments", "probe", None,
                        {"order_id": "probe", "amount_cents": 100, "currency": "EUR",
                         "card_token": "tok_ok_probe"})


def problem(status: int, title: str) -> JSONResponse:
    return JSONResponse({"title": title, "status": status}, status,
                        media_type="application/problem+json")


def build_app(naive: Naive) -> Starlette:
    tasks: set[asyncio.Task[None]] = set()

    def start(doc: dict[str, Any]) -> None:
        spawn(naive.saga(doc))

    def spawn(work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def submit(request: Request) -> JSONResponse:
        try:
            order = await request.json()
        except ValueError:
            return problem(400, "the body is not JSON")
        if not isinstance(order, dict) or not isinstance(order.get("order_id"), str):
            return problem(422, "order_id: expected a string")
        known = naive.orders.get(order["order_id"])
        if known is not None:
            if known.get("order") != order and "resubmit" not in naive.bugs:
                return problem(409, "another order is known under this order_id")
            if known.get("order") != order:  # "the client knows best": run the new body
                doc = {"order_id": order["order_id"], "order": order, "status": "pending"}
                naive.orders.put(doc)
                start(doc)
                return JSONResponse({"order_id": doc["order_id"], "status": "pending"}, 202)
            return JSONResponse({"order_id": known["order_id"], "status": known["status"]})
        doc = {"order_id": order["order_id"], "order": order, "status": "pending"}
        naive.orders.put(doc)
        start(doc)
        return JSONResponse({"order_id": doc["order_id"], "status": "pending"}, 202)

    async def status(request: Request) -> JSONResponse:
        doc = naive.orders.get(request.path_params["oid"])
        if doc is None or "order" not in doc:
            return problem(404, "unknown order")
        return JSONResponse({k: doc[k] for k in REPORTED if k in doc})

    async def review(request: Request) -> JSONResponse:
        doc = naive.orders.get(request.path_params["oid"])
        try:
            decision = (await request.json()).get("decision")
        except (ValueError, AttributeError):
            decision = None
        if decision not in ("approve", "reject"):
            return problem(422, 'decision: expected "approve" or "reject"')
        if doc is not None and "review-twice" in naive.bugs and doc.get("decision") and \
                doc["status"] != "awaiting_review" and decision != doc["decision"]:
            doc["decision"] = decision  # "the latest decision counts"
            naive.orders.put(doc)
            if decision == "reject":
                spawn(naive.revoke(doc))
            return JSONResponse({"order_id": doc["order_id"], "status": doc["status"]})
        if doc is None or doc["status"] != "awaiting_review" or naive.timed_out(doc):
            return problem(409, "not awaiting review")
        if doc.get("decision") not in (None, decision):
            # The first decision counts, also before the saga (which looks every 50 ms)
            # has read it: a second one overwrote it, and an order a reviewer had
            # rejected was captured (input-effects, in a soak of the naive with no bug).
            return problem(409, "another decision was taken")
        doc["decision"] = decision
        naive.orders.put(doc)  # saved before we answer, so a crash cannot lose it
        return JSONResponse({"order_id": doc["order_id"], "status": doc["status"]})

    async def advance_clock(request: Request) -> JSONResponse:
        try:
            seconds = float((await request.json())["seconds"])
        except (ValueError, KeyError, TypeError):
            return problem(422, "seconds: expected a number")
        naive.orders.advance(seconds)
        return JSONResponse({"now": naive.now()})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for doc in naive.orders.unfinished():
            if "resume-pending" in naive.bugs and doc["status"] != "pending":
                continue  # "only orders nobody has started yet"
            if "resume-once" in naive.bugs:
                if doc.get("resumed"):
                    continue  # "it may be the order that crashed us"
                doc["resumed"] = True
                naive.orders.put(doc)
            start(doc)
        if "probe" in naive.bugs:
            spawn(naive.probe())
        yield

    return Starlette(routes=[
        Route("/orders", submit, methods=["POST"]),
        Route("/orders/{oid}", status),
        Route("/orders/{oid}/review", review, methods=["POST"]),
        Route("/_admin/clock/advance", advance_clock, methods=["POST"]),
        Route("/healthz", healthz),
    ], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bug", action="append", default=[], choices=BUGS)
    parser.add_argument("--call-timeout", type=float, default=CALL_TIMEOUT,
                        help=f"seconds to wait for one answer (default {CALL_TIMEOUT:g})")
    args = parser.parse_args()
    host, port = os.environ["FRACAS_LISTEN"].rsplit(":", 1)
    naive = Naive(set(args.bug), Path(os.environ["FRACAS_STATE_DIR"]), args.call_timeout)
    uvicorn.run(build_app(naive), host=host, port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
