"""The five services as DBOS steps: one HTTP call each, retried by DBOS, never by hand.

A step either returns a business answer (the customer, a payment, "declined", ...) or
raises `Transient`, which DBOS retries with backoff (`RETRY`). What counts as business
is decided by the problem `type`, not the status code alone: a fault proxy can answer
any status, and only a fake's own `out-of-stock` means out of stock.

Every effectful call carries an Idempotency-Key made of the workflow id (= order id) and
the step, so a retry, or a step re-run after a crash, replays instead of acting twice.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from dbos import DBOS

#: Known mistakes to switch on (`app.py --bug ...`), so a test can show fracas finds them.
BUGS: set[str] = set()


class Transient(Exception):
    """No usable answer (timeout, reset, 5xx, garbled body): retry the same call."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, Transient | httpx.HTTPError)


#: ~40 s of retries (0.1 s, x1.5 each): longer than any fault the suite schedules.
RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "interval_seconds": 0.1,
    "backoff_rate": 1.5,
    "max_attempts": 14,
    "should_retry": _retryable,
}

_http = httpx.Client(timeout=2.0, trust_env=False)


def _url(service: str) -> str:
    return os.environ[f"FRACAS_{service.upper()}_URL"].rstrip("/")


def _call(
    oid: str, method: str, service: str, path: str, body: Any = None, key: str | None = None
) -> tuple[int, Any, str | None]:
    headers = {"X-Correlation-ID": oid}
    if key is not None:
        headers["Idempotency-Key"] = key
    resp = _http.request(method, _url(service) + path, json=body, headers=headers)
    try:
        data = resp.json()
    except ValueError:
        raise Transient(f"{service} {path}: {resp.status_code} with a body that is not JSON") from None
    kind = data.get("type") if isinstance(data, dict) else None
    return resp.status_code, data, kind


def _field(data: Any, name: str, kind: type, where: str) -> Any:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Transient(f"{where}: answer without a valid {name!r}: {str(data)[:120]}")
    return value


def _confirmed(data: Any, name: str, want: str | None, where: str) -> None:
    """Check the answer of a call whose result we do not otherwise use: a 2xx with a
    garbled body may mean nothing was done (a before_commit fault), so only a real
    answer counts. `--bug unchecked-answers` skips this, as a first draft would."""
    if "unchecked-answers" in BUGS:
        return
    value = _field(data, name, str, where)
    if want is not None and value != want:
        raise Transient(f"{where}: {name} is {value!r}, expected {want!r}")


def _unexpected(where: str, status: int, data: Any) -> Transient:
    return Transient(f"{where}: answered {status}: {str(data)[:160]}")


@DBOS.step(**RETRY)
def get_customer(oid: str, customer_id: str) -> dict[str, Any] | None:
    status, data, kind = _call(oid, "GET", "crm", f"/customers/{customer_id}?order_id={oid}")
    if status == 404 and kind == "not-found":
        return None
    if status != 200:
        raise _unexpected("crm", status, data)
    for name in ("status", "risk"):
        _field(data, name, str, "crm")
    _field(_field(data, "address", dict, "crm"), "country", str, "crm.address")
    if data["status"] not in ("active", "blocked") or data["risk"] not in ("low", "high"):
        raise Transient(f"crm: unknown status/risk in {str(data)[:120]}")
    return dict(data)


@DBOS.step(**RETRY)
def quote(oid: str, address: dict[str, Any], lines: list[dict[str, Any]]) -> int:
    body = {"order_id": oid, "address": address, "lines": lines}
    status, data, _ = _call(oid, "POST", "shipping", "/quotes", body)
    if status != 200:
        raise _unexpected("shipping quote", status, data)
    return int(_field(data, "amount_cents", int, "shipping quote"))


@DBOS.step(**RETRY)
def capture(oid: str, amount: int, currency: str, card: str) -> str | None:
    """The payment id, or None when the card is declined."""
    body = {"order_id": oid, "amount_cents": amount, "currency": currency, "card_token": card}
    status, data, kind = _call(oid, "POST", "payment", "/payments", body, f"{oid}:capture")
    if status == 402 and kind == "card-declined":
        return None
    if status != 201:
        raise _unexpected("capture", status, data)
    return str(_field(data, "payment_id", str, "capture"))


@DBOS.step(**RETRY)
def reserve(oid: str, lines: list[dict[str, Any]]) -> str | None:
    """The reservation id, or None when out of stock."""
    body = {"order_id": oid, "lines": [{"sku": ln["sku"], "qty": ln["qty"]} for ln in lines]}
    status, data, kind = _call(oid, "POST", "inventory", "/reservations", body, f"{oid}:reserve")
    if status == 409 and kind == "out-of-stock":
        return None
    if status != 201:
        raise _unexpected("reserve", status, data)
    return str(_field(data, "reservation_id", str, "reserve"))


@DBOS.step(**RETRY)
def ship(oid: str, reservation_id: str, address: dict[str, Any]) -> str | None:
    """The shipment id, or None when the address is not served."""
    body = {"order_id": oid, "reservation_id": reservation_id, "address": address}
    status, data, kind = _call(oid, "POST", "shipping", "/shipments", body, f"{oid}:ship")
    if status == 422 and kind == "undeliverable":
        return None
    if status != 201:
        raise _unexpected("ship", status, data)
    return str(_field(data, "shipment_id", str, "ship"))


@DBOS.step(**RETRY)
def notify(oid: str, customer_id: str, template: str) -> None:
    body = {"order_id": oid, "customer_id": customer_id, "template": template}
    status, data, _ = _call(oid, "POST", "notify", "/messages", body, f"{oid}:notify:{template}")
    if status != 201:
        raise _unexpected("notify", status, data)
    _confirmed(data, "message_id", None, "notify")


def _listed(oid: str, service: str, path: str) -> list[dict[str, Any]]:
    status, data, _ = _call(oid, "GET", service, f"{path}?order_id={oid}")
    if status != 200 or not isinstance(data, list):
        raise _unexpected(f"{service} {path} lookup", status, data)
    return [row for row in data if isinstance(row, dict) and row.get("order_id") == oid]


@DBOS.step(**RETRY)
def refund(oid: str, payment_id: str | None) -> None:
    """Refund the capture; with no id (its answer was lost), every live capture found."""
    if payment_id is None:
        ids = [str(p["payment_id"]) for p in _listed(oid, "payment", "/payments")
               if int(p.get("refunded_cents") or 0) < int(p.get("amount_cents") or 0)]
    else:
        ids = [payment_id]
    for pid in ids:
        status, data, _ = _call(oid, "GET", "payment", f"/payments/{pid}")
        if status != 200:
            raise _unexpected("payment read", status, data)
        left = int(_field(data, "amount_cents", int, "payment")) - int(
            data.get("refunded_cents") or 0
        )
        if left <= 0:
            continue
        status, data, kind = _call(oid, "POST", "payment", f"/payments/{pid}/refunds",
                                   {"amount_cents": left}, f"{oid}:refund:{pid}:{left}")
        if status == 409 and kind == "refund-exceeds-capture":
            continue
        if status != 201:
            raise _unexpected("refund", status, data)
        _confirmed(data, "refund_id", None, "refund")


@DBOS.step(**RETRY)
def release(oid: str, reservation_id: str | None) -> None:
    ids = [reservation_id] if reservation_id else [
        str(r["reservation_id"]) for r in _listed(oid, "inventory", "/reservations")
        if r.get("status") == "held"]
    for rid in ids:
        status, data, _ = _call(oid, "POST", "inventory", f"/reservations/{rid}/release", {},
                                f"{oid}:release:{rid}")
        if status != 200:
            raise _unexpected("release", status, data)
        _confirmed(data, "status", "released", "release")


@DBOS.step(**RETRY)
def cancel_shipment(oid: str, shipment_id: str | None) -> None:
    ids = [shipment_id] if shipment_id else [
        str(s["shipment_id"]) for s in _listed(oid, "shipping", "/shipments")
        if s.get("status") != "cancelled"]
    for sid in ids:
        status, data, _ = _call(oid, "POST", "shipping", f"/shipments/{sid}/cancel", {},
                                f"{oid}:cancel:{sid}")
        if status != 200:
            raise _unexpected("cancel", status, data)
        _confirmed(data, "status", "cancelled", "cancel")
