"""The five services as Temporal activities: one HTTP call each, retried by Temporal.

An activity returns a business answer (the customer, a payment id, None for
"declined"...) or raises, and the workflow's RetryPolicy retries it. Business answers
are recognised by the problem `type` (a fault proxy can answer any status).

Every effectful call carries an Idempotency-Key made of the workflow id (= order id) and
the step, so a retried or re-run activity replays instead of acting twice.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from temporalio import activity

_http: httpx.AsyncClient | None = None


def _client() -> httpx.AsyncClient:
    global _http
    if _http is None:
        _http = httpx.AsyncClient(timeout=2.0, trust_env=False)
    return _http


class Transient(Exception):
    """No usable answer (timeout, reset, 5xx, garbled body): Temporal retries."""


async def _call(oid: str, method: str, service: str, path: str, body: Any = None,
                key: str | None = None) -> tuple[int, Any, str | None]:
    headers = {"X-Correlation-ID": oid}
    if key is not None:
        headers["Idempotency-Key"] = key
    url = os.environ[f"FRACAS_{service.upper()}_URL"].rstrip("/") + path
    resp = await _client().request(method, url, json=body, headers=headers)
    try:
        data = resp.json()
    except ValueError:
        raise Transient(f"{service} {path}: {resp.status_code}, body not JSON") from None
    return resp.status_code, data, data.get("type") if isinstance(data, dict) else None


def _field(data: Any, name: str, kind: type, where: str) -> Any:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Transient(f"{where}: answer without a valid {name!r}: {str(data)[:120]}")
    return value


def _confirmed(data: Any, name: str, want: str | None, where: str) -> None:
    """Check the answer of a call whose result we do not otherwise use: a 2xx with a
    garbled body may mean nothing was done (a before_commit fault), so only a real
    answer counts (the mistake fracas found in the first draft, docs/engines.md)."""
    value = _field(data, name, str, where)
    if want is not None and value != want:
        raise Transient(f"{where}: {name} is {value!r}, expected {want!r}")


def _unexpected(where: str, status: int, data: Any) -> Transient:
    return Transient(f"{where}: answered {status}: {str(data)[:160]}")


@activity.defn
async def get_customer(oid: str, customer_id: str) -> dict[str, Any] | None:
    status, data, kind = await _call(oid, "GET", "crm", f"/customers/{customer_id}?order_id={oid}")
    if status == 404 and kind == "not-found":
        return None
    if status != 200:
        raise _unexpected("crm", status, data)
    _field(data, "status", str, "crm")
    _field(data, "risk", str, "crm")
    _field(_field(data, "address", dict, "crm"), "country", str, "crm.address")
    if data["status"] not in ("active", "blocked") or data["risk"] not in ("low", "high"):
        raise Transient(f"crm: unknown status/risk in {str(data)[:120]}")
    return dict(data)


@activity.defn
async def quote(oid: str, address: dict[str, Any], lines: list[dict[str, Any]]) -> int:
    body = {"order_id": oid, "address": address, "lines": lines}
    status, data, _ = await _call(oid, "POST", "shipping", "/quotes", body)
    if status != 200:
        raise _unexpected("quote", status, data)
    return int(_field(data, "amount_cents", int, "quote"))


@activity.defn
async def capture(oid: str, amount: int, currency: str, card: str) -> str | None:
    body = {"order_id": oid, "amount_cents": amount, "currency": currency, "card_token": card}
    status, data, kind = await _call(oid, "POST", "payment", "/payments", body, f"{oid}:capture")
    if status == 402 and kind == "card-declined":
        return None
    if status != 201:
        raise _unexpected("capture", status, data)
    return str(_field(data, "payment_id", str, "capture"))


@activity.defn
async def reserve(oid: str, lines: list[dict[str, Any]]) -> str | None:
    body = {"order_id": oid, "lines": [{"sku": ln["sku"], "qty": ln["qty"]} for ln in lines]}
    status, data, kind = await _call(oid, "POST", "inventory", "/reservations", body,
                                     f"{oid}:reserve")
    if status == 409 and kind == "out-of-stock":
        return None
    if status != 201:
        raise _unexpected("reserve", status, data)
    return str(_field(data, "reservation_id", str, "reserve"))


@activity.defn
async def ship(oid: str, reservation_id: str, address: dict[str, Any]) -> str | None:
    body = {"order_id": oid, "reservation_id": reservation_id, "address": address}
    status, data, kind = await _call(oid, "POST", "shipping", "/shipments", body, f"{oid}:ship")
    if status == 422 and kind == "undeliverable":
        return None
    if status != 201:
        raise _unexpected("ship", status, data)
    return str(_field(data, "shipment_id", str, "ship"))


@activity.defn
async def notify(oid: str, customer_id: str, template: str) -> None:
    body = {"order_id": oid, "customer_id": customer_id, "template": template}
    status, data, _ = await _call(oid, "POST", "notify", "/messages", body,
                                  f"{oid}:notify:{template}")
    if status != 201:
        raise _unexpected("notify", status, data)
    _confirmed(data, "message_id", None, "notify")


async def _listed(oid: str, service: str, path: str) -> list[dict[str, Any]]:
    status, data, _ = await _call(oid, "GET", service, f"{path}?order_id={oid}")
    if status != 200 or not isinstance(data, list):
        raise _unexpected(f"{service} lookup", status, data)
    return [r for r in data if isinstance(r, dict) and r.get("order_id") == oid]


@activity.defn
async def refund(oid: str, payment_id: str | None) -> None:
    """Refund the capture; with no id (its answer was lost), every live one found."""
    ids = [payment_id] if payment_id else [
        str(p["payment_id"]) for p in await _listed(oid, "payment", "/payments")]
    for pid in ids:
        status, data, _ = await _call(oid, "GET", "payment", f"/payments/{pid}")
        if status != 200:
            raise _unexpected("payment read", status, data)
        left = int(_field(data, "amount_cents", int, "payment")) - int(
            data.get("refunded_cents") or 0)
        if left <= 0:
            continue
        status, data, kind = await _call(oid, "POST", "payment", f"/payments/{pid}/refunds",
                                         {"amount_cents": left}, f"{oid}:refund:{pid}:{left}")
        if status == 409 and kind == "refund-exceeds-capture":
            continue
        if status != 201:
            raise _unexpected("refund", status, data)
        _confirmed(data, "refund_id", None, "refund")


@activity.defn
async def release(oid: str, reservation_id: str | None) -> None:
    ids = [reservation_id] if reservation_id else [
        str(r["reservation_id"]) for r in await _listed(oid, "inventory", "/reservations")
        if r.get("status") == "held"]
    for rid in ids:
        status, data, _ = await _call(oid, "POST", "inventory", f"/reservations/{rid}/release",
                                      {}, f"{oid}:release:{rid}")
        if status != 200:
            raise _unexpected("release", status, data)
        _confirmed(data, "status", "released", "release")


@activity.defn
async def cancel_shipment(oid: str, shipment_id: str | None) -> None:
    ids = [shipment_id] if shipment_id else [
        str(s["shipment_id"]) for s in await _listed(oid, "shipping", "/shipments")
        if s.get("status") != "cancelled"]
    for sid in ids:
        status, data, _ = await _call(oid, "POST", "shipping", f"/shipments/{sid}/cancel",
                                      {}, f"{oid}:cancel:{sid}")
        if status != 200:
            raise _unexpected("cancel", status, data)
        _confirmed(data, "status", "cancelled", "cancel")


ALL = [get_customer, quote, capture, reserve, ship, notify, refund, release, cancel_shipment]
