"""The orchestrator's HTTP API (contract §2) plus metrics and test-only admin calls.

Bad input is always a 4xx problem document (RFC 9457), never a 5xx: the harness
fuzzes this API, and a 500 on garbage would be a finding against us.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from fracas.orchestrator import validate
from fracas.orchestrator.clock import Clock
from fracas.orchestrator.config import Config
from fracas.orchestrator.metrics import Metrics
from fracas.orchestrator.openapi import build_openapi
from fracas.orchestrator.saga import Engine
from fracas.orchestrator.storage import fail_stop, is_storage_error
from fracas.orchestrator.store import STATUSES, OrderRow, Store, canonical
from fracas.orchestrator.validate import ORDER_LIMITS


def problem(status: int, ptype: str, title: str, detail: str = "", **extra: Any) -> Response:
    body = {"type": ptype, "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status_code=status, media_type="application/problem+json")


def view(row: OrderRow) -> dict[str, Any]:
    out: dict[str, Any] = {"order_id": row.order_id, "status": row.status}
    if row.reason:
        out["reason"] = row.reason
    for name in ("payment_id", "reservation_id", "shipment_id"):
        if row.ctx.get(name):
            out[name] = row.ctx[name]
    return out


async def _json(request: Request) -> tuple[Any, Response | None]:
    raw = await request.body()
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, problem(400, "malformed-request", "Malformed JSON", "body is not JSON")


def build_app(config: Config) -> Starlette:
    """The handlers close over the store, the clock and the engine the lifespan starts,
    so each app gets its own; they are built in three groups, one per part of the API."""
    store = Store(config.state_dir)
    offset = float(store.meta_get("clock_offset") or 0.0)
    clock = Clock(offset, adjustable=config.test_clock)
    metrics = Metrics()
    state: dict[str, Engine] = {}

    def engine() -> Engine:
        return state["engine"]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        eng = Engine(config, store, clock, metrics)
        state["engine"] = eng
        eng.start()
        try:
            yield
        finally:
            await eng.stop()
            store.close()

    routes = [
        *_collection_routes(store, engine),
        *_order_routes(store, engine),
        *_admin_routes(state, store, metrics, clock, engine),
    ]

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_allowed, 500: server_error},
    )
    app.state.state_dir = str(config.state_dir)
    return app


def _collection_routes(store: Store, engine: Callable[[], Engine]) -> list[Route]:
    """``/orders``: submitting an order and listing them (contract §2)."""

    async def create_order(request: Request) -> Response:
        body, err = await _json(request)
        if err:
            return err
        order, errors = validate.order(body)
        if order is None:
            return problem(
                422, "invalid-request", "Invalid order",
                "; ".join(f"{e['field']}: {e['problem']}" for e in errors),
                errors=errors,
            )  # fmt: skip
        row, result = engine().submit(order, canonical(order))
        await store.durable()  # 202 means the order will survive a crash
        if result == "conflict":
            return problem(
                409, "order-conflict", "Order id already used",
                f"order {row.order_id} exists with a different body",
            )  # fmt: skip
        return JSONResponse(
            {"order_id": row.order_id, "status": row.status},
            status_code=202 if result == "created" else 200,
        )

    async def list_orders(request: Request) -> Response:
        status = request.query_params.get("status")
        if status is not None and status not in STATUSES:
            return problem(
                422, "invalid-request", "Unknown status",
                f"status must be one of {', '.join(STATUSES)}",
                errors=[{"field": "status", "problem": "unknown status"}],
            )  # fmt: skip
        try:
            limit = int(request.query_params.get("limit", "1000"))
        except ValueError:
            limit = -1
        if not 1 <= limit <= ORDER_LIMITS["list"]:
            expected = f"must be an integer 1..{ORDER_LIMITS['list']}"
            return problem(
                422, "invalid-request", "Bad limit", f"limit {expected}",
                errors=[{"field": "limit", "problem": expected}],
            )  # fmt: skip
        await store.durable()
        rows = store.list_orders(status, limit)
        return JSONResponse({"orders": [view(r) for r in rows], "count": len(rows)})

    return [
        Route("/orders", create_order, methods=["POST"]),
        Route("/orders", list_orders, methods=["GET"]),
    ]


def _order_routes(store: Store, engine: Callable[[], Engine]) -> list[Route]:
    """``/orders/{order_id}``: one order's view, its events and the review decision."""

    async def get_order(request: Request) -> Response:
        order_id = request.path_params["order_id"]
        wait = request.query_params.get("wait")
        if wait is not None:
            try:
                seconds = float(wait)
            except ValueError:
                seconds = math.nan
            if not 0 <= seconds <= ORDER_LIMITS["wait"]:
                expected = f"must be a number 0..{ORDER_LIMITS['wait']}"
                return problem(
                    422, "invalid-request", "Bad wait", f"wait {expected} (seconds)",
                    errors=[{"field": "wait", "problem": expected}],
                )  # fmt: skip
            await engine().wait_settled(order_id, seconds)
        else:
            await store.durable()
        row = store.get(order_id, committed=True)
        if row is None:
            return problem(404, "not-found", "Unknown order", f"no order {order_id}")
        return JSONResponse(view(row))

    async def order_events(request: Request) -> Response:
        order_id = request.path_params["order_id"]
        await store.durable()
        if store.get(order_id, committed=True) is None:
            return problem(404, "not-found", "Unknown order", f"no order {order_id}")
        return JSONResponse({"order_id": order_id, "events": store.events(order_id)})

    async def review(request: Request) -> Response:
        order_id = request.path_params["order_id"]
        body, err = await _json(request)
        if err:
            return err
        decision = body.get("decision") if isinstance(body, dict) else None
        if decision not in ("approve", "reject"):
            return problem(
                422, "invalid-request", "Invalid decision",
                "decision must be 'approve' or 'reject'",
                errors=[{"field": "decision", "problem": "must be 'approve' or 'reject'"}],
            )  # fmt: skip
        row = store.get(order_id)
        if row is None:
            return problem(404, "not-found", "Unknown order", f"no order {order_id}")
        updated = engine().review(order_id, decision)
        if updated is None:
            return problem(
                409, "not-awaiting-review", "Order is not awaiting review",
                f"order {order_id} is {row.status}",
            )  # fmt: skip
        await store.durable()
        return JSONResponse(view(store.get(order_id, committed=True) or updated))

    return [
        Route("/orders/{order_id}", get_order, methods=["GET"]),
        Route("/orders/{order_id}/events", order_events, methods=["GET"]),
        Route("/orders/{order_id}/review", review, methods=["POST"]),
    ]


def _admin_routes(
    state: dict[str, Engine],
    store: Store,
    metrics: Metrics,
    clock: Clock,
    engine: Callable[[], Engine],
) -> list[Route]:
    """Health and metrics, and the test-only admin calls: the clock and resuming an order."""

    async def healthz(request: Request) -> Response:
        if "engine" not in state:
            return problem(503, "starting", "Not ready")
        return JSONResponse({"status": "ok"})

    document = json.dumps(build_openapi())

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    async def metrics_endpoint(request: Request) -> Response:
        return PlainTextResponse(
            metrics.render(store.counts()), media_type="text/plain; version=0.0.4"
        )

    async def clock_get(request: Request) -> Response:
        return JSONResponse({"now": clock.now(), "offset": clock.offset, "test": clock.adjustable})

    async def clock_advance(request: Request) -> Response:
        if not clock.adjustable:
            return problem(404, "not-found", "No test clock", "start with --test-clock")
        body, err = await _json(request)
        if err:
            return err
        seconds = body.get("seconds") if isinstance(body, dict) else None
        # NaN and Infinity parse as JSON numbers; either would make the clock (and every
        # answer that shows it) unencodable, so the range check is written to refuse them.
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds <= ORDER_LIMITS["advance"]
        ):
            expected = f"must be a number from 0 to {ORDER_LIMITS['advance']}"
            return problem(
                422, "invalid-request", "Invalid seconds", f"seconds {expected}",
                errors=[{"field": "seconds", "problem": expected}],
            )  # fmt: skip
        now = clock.advance(float(seconds))
        store.meta_set("clock_offset", repr(clock.offset))
        expired = engine().expire_reviews()
        await store.durable()
        return JSONResponse({"now": now, "offset": clock.offset, "expired_reviews": expired})

    async def outbox(request: Request) -> Response:
        """How many end events are still to be published: a harness waits for 0 before it
        reads the ledgers, since a participant acts on them only once they are out."""
        relay = state["engine"].relay if "engine" in state else None
        return JSONResponse({"pending": 0 if relay is None else relay.pending()})

    async def resume(request: Request) -> Response:
        """Let a person retry an escalated order from the step where it gave up."""
        order_id = request.path_params["order_id"]
        row = store.get(order_id)
        if row is None:
            return problem(404, "not-found", "Unknown order", f"no order {order_id}")
        if row.status != "needs_attention":
            return problem(409, "not-needs-attention", "Order is not escalated", row.status)
        engine().resume(order_id)
        await store.durable()
        return JSONResponse(view(store.get(order_id, committed=True) or row))

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/_admin/clock", clock_get, methods=["GET"]),
        Route("/_admin/clock/advance", clock_advance, methods=["POST"]),
        Route("/_admin/outbox", outbox, methods=["GET"]),
        Route("/_admin/orders/{order_id}/resume", resume, methods=["POST"]),
    ]


async def not_found(request: Request, exc: Exception) -> Response:
    return problem(404, "not-found", "Not found", request.url.path)


async def not_allowed(request: Request, exc: Exception) -> Response:
    return problem(405, "method-not-allowed", "Method not allowed", request.method)


async def server_error(request: Request, exc: Exception) -> Response:
    if is_storage_error(exc):
        fail_stop(Path(request.app.state.state_dir), exc)
    return problem(500, "internal-error", "Internal error", type(exc).__name__)
