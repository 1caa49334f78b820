"""The fracas orchestrator contract (docs/contract.md §2) in front of the DBOS saga.

    python app.py            # reads FRACAS_LISTEN, FRACAS_STATE_DIR, FRACAS_*_URL

A POST /orders starts workflow `order_saga` with workflow id = order id, so a repeated
submit finds the same workflow. GET /orders/{id} reads the workflow's "order" event.
A review is a DBOS message on topic "review". Everything durable is in
FRACAS_STATE_DIR/dbos.sqlite (DBOS's system database); DBOS.launch() recovers
unfinished workflows after a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clock  # noqa: E402
import saga  # noqa: E402
import uvicorn  # noqa: E402
from dbos import DBOS, SetWorkflowID  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

#: Engine states that mean "DBOS gave up": the contract's dead letter.
DEAD = {"ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED", "CANCELLED"}


def problem(status: int, kind: str, detail: str) -> JSONResponse:
    body = {"type": kind, "title": kind.replace("-", " "), "status": status, "detail": detail}
    return JSONResponse(body, status, media_type="application/problem+json")


def validate(order: Any) -> str | None:
    """The first thing wrong with an order body, naming the field, or None."""
    if not isinstance(order, dict):
        return "body: expected a JSON object"
    for key in ("order_id", "customer_id", "currency", "card_token"):
        if not isinstance(order.get(key), str) or not order[key]:
            return f"{key}: expected a non-empty string"
    lines = order.get("lines")
    if not isinstance(lines, list) or not lines:
        return "lines: expected a non-empty list"
    for i, line in enumerate(lines):
        ok = isinstance(line, dict) and isinstance(line.get("sku"), str)
        for key in ("qty", "unit_price_cents"):
            ok = ok and isinstance(line.get(key), int) and not isinstance(line[key], bool)
        if not ok:
            return f"lines[{i}]: expected {{sku: str, qty: int, unit_price_cents: int}}"
    return None


def view(oid: str) -> dict[str, Any] | None:
    wf = DBOS.get_workflow_status(oid)
    if wf is None:
        return None
    event = DBOS.get_event(oid, "order", timeout_seconds=0) or {"order_id": oid,
                                                                "status": "pending"}
    if wf.status in DEAD:
        event = {**event, "status": "needs_attention", "reason": f"workflow {wf.status}"}
    return dict(event)


def submitted_body(oid: str) -> Any:
    wf = DBOS.get_workflow_status(oid)
    args = (wf.input or {}).get("args") if wf is not None else None  # type: ignore[union-attr]
    return args[0] if args else None


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return problem(400, "malformed-request", "body: not valid JSON")


def submit(order: dict[str, Any]) -> JSONResponse:
    oid = order["order_id"]
    if DBOS.get_workflow_status(oid) is None:
        with SetWorkflowID(oid):
            DBOS.start_workflow(saga.order_saga, order)
        code = 202
    else:
        code = 200
    if submitted_body(oid) != order:
        return problem(409, "order-conflict", f"order_id {oid}: another order has this id")
    return JSONResponse(view(oid), code)


async def post_order(request: Request) -> JSONResponse:
    order = await _json(request)
    if isinstance(order, JSONResponse):
        return order
    error = validate(order)
    if error:
        return problem(422, "invalid-request", error)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(submit, order)


async def get_order(request: Request) -> JSONResponse:
    """`?wait=S` long-polls until the order is past pending/running (as the bundled one)."""
    from starlette.concurrency import run_in_threadpool

    oid = request.path_params["order_id"]
    try:
        wait = min(30.0, max(0.0, float(request.query_params.get("wait", 0))))
    except ValueError:
        return problem(422, "invalid-request", "wait: expected seconds")
    deadline = time.monotonic() + wait
    while True:
        body = await run_in_threadpool(view, oid)
        if body is None:
            return problem(404, "not-found", f"order {oid} is unknown")
        if body["status"] not in ("pending", "running") or time.monotonic() >= deadline:
            return JSONResponse(body)
        await asyncio.sleep(0.05)  # the long-poll's own polling period


async def post_review(request: Request) -> JSONResponse:
    oid = request.path_params["order_id"]
    body = await _json(request)
    if isinstance(body, JSONResponse):
        return body
    decision = body.get("decision") if isinstance(body, dict) else None
    if decision not in ("approve", "reject"):
        return problem(422, "invalid-request", 'decision: expected "approve" or "reject"')
    from starlette.concurrency import run_in_threadpool

    def act() -> JSONResponse:
        current = view(oid)
        if current is None:
            return problem(404, "not-found", f"order {oid} is unknown")
        if current["status"] != "awaiting_review":
            return problem(409, "not-awaiting-review", f"order {oid} is {current['status']}")
        # One decision per order: a second one is dropped by DBOS's idempotency key.
        DBOS.send(oid, {"decision": decision}, "review", idempotency_key=f"{oid}:review")
        return JSONResponse({"order_id": oid, "decision": decision})

    return await run_in_threadpool(act)


def tick_reviews() -> int:
    """Wake every order waiting for review so it re-reads the test clock."""
    woken = 0
    for wf in DBOS.list_workflows(status="PENDING", name=saga.order_saga.__qualname__):
        current = view(wf.workflow_id)
        if current and current["status"] == "awaiting_review":
            DBOS.send(wf.workflow_id, {"tick": clock.offset()}, "review")
            woken += 1
    return woken


async def advance_clock(request: Request) -> JSONResponse:
    body = await _json(request)
    if isinstance(body, JSONResponse):
        return body
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        return problem(422, "invalid-request", "seconds: expected a number >= 0")
    from starlette.concurrency import run_in_threadpool

    offset = clock.advance(float(seconds))
    woken = await run_in_threadpool(tick_reviews)
    return JSONResponse({"offset": offset, "woken": woken})


def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def build_app(test_clock: bool) -> Starlette:
    routes = [
        Route("/healthz", healthz),
        Route("/orders", post_order, methods=["POST"]),
        Route("/orders/{order_id}", get_order),
        Route("/orders/{order_id}/review", post_review, methods=["POST"]),
    ]
    if test_clock:
        routes.append(Route("/_admin/clock/advance", advance_clock, methods=["POST"]))
    return Starlette(routes=routes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-clock", action="store_true",
                        help="enable POST /_admin/clock/advance (review timeouts in tests)")
    parser.add_argument("--bug", action="append", default=[], choices=["no-compensation", "unchecked-answers"],
                        help="switch a known mistake on, to see fracas find it")
    args = parser.parse_args()
    saga.BUGS.update(args.bug)
    state = Path(os.environ.get("FRACAS_STATE_DIR", "."))
    state.mkdir(parents=True, exist_ok=True)
    host, _, port = os.environ.get("FRACAS_LISTEN", "127.0.0.1:8000").rpartition(":")
    DBOS(config={
        "name": "fracas-dbos-orders",
        "system_database_url": f"sqlite:///{state / 'dbos.sqlite'}",
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": 0.05,
    })
    DBOS.launch()  # recovers every workflow a crash interrupted
    if args.test_clock:
        tick_reviews()  # a tick lost in a crash between the clock write and the send
    uvicorn.run(build_app(args.test_clock), host=host or "127.0.0.1", port=int(port),
                log_level="warning")


if __name__ == "__main__":
    main()
