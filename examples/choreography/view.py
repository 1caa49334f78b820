"""The order view's HTTP answers (contract §7): ``GET /orders/{id}`` as an orchestrator
answers it, and ``POST /orders/{id}/review``, whose first decision takes.

A decision is recorded with its ``review.decided`` event in one transaction (the
outbox), so a crash right after the 200 still publishes it when the view comes back.
"""

from __future__ import annotations

from typing import Any, Protocol

from fracas.fakes.events import msg_id

DECISIONS = ("approve", "reject")


class Owner(Protocol):
    role: str
    ready: bool
    store: Any

    async def flush(self) -> None: ...


def _problem(status: int, kind: str, detail: str) -> tuple[int, Any]:
    return status, {"type": kind, "title": kind.replace("-", " "), "status": status,
                    "detail": detail}


async def route(p: Owner, method: str, path: str, sent: Any) -> tuple[int, Any]:
    if path == "/healthz":
        return (200, {"ok": True}) if p.ready else (503, {"ok": False})
    rest = path.removeprefix("/orders/")
    if p.role != "orders" or rest == path:
        return _problem(404, "not-found", f"no route {path}")
    if method == "GET" and "/" not in rest:
        found = p.store.view(rest)
        return (200, found) if found else _problem(404, "not-found", f"unknown order {rest}")
    if method == "POST" and rest.endswith("/review"):
        return await review(p, rest.removesuffix("/review"), sent)
    return _problem(405, "method-not-allowed", f"{method} {path}")


async def review(p: Owner, order_id: str, sent: Any) -> tuple[int, Any]:
    decision = sent.get("decision") if isinstance(sent, dict) else None
    if decision not in DECISIONS:
        return _problem(422, "invalid-request", "decision: expected approve or reject")
    found = p.store.view(order_id)
    if found is None:
        return _problem(404, "not-found", f"unknown order {order_id}")
    taken = p.store.decision(order_id)
    if taken is not None:  # the same again is harmless; another one comes too late
        if taken == decision:
            return 200, {"order_id": order_id, "decision": taken}
        return _problem(409, "already-decided", f"{order_id} was decided: {taken}")
    asked = p.store.created(order_id)
    if found["status"] != "awaiting_review" or asked is None:
        return _problem(409, "not-awaiting-review", f"{order_id} is {found['status']}")
    event = "review.decided"
    p.store.decide(order_id, decision,
                   (event, msg_id(order_id, event), {**asked, "decision": decision}))
    await p.flush()
    return 200, {"order_id": order_id, "decision": decision}
