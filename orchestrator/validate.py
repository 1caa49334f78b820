"""Checking every answer against the contract before believing it.

A fake under fault injection may answer with a truncated, retyped or half-empty body
that still carries a 2xx status. Acting on it (say, storing a payment id that is not a
string) would turn a network fault into a wrong order, so any answer that does not
match its shape is an *unknown outcome*: the caller retries with the same key or looks
the effect up, exactly as if the answer had been lost.

``bool`` is a subclass of ``int`` in Python, so integers are checked with ``type() is``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Validator = Callable[[Any], str | None]


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_str(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _need(body: Any, spec: dict[str, Callable[[Any], bool]]) -> str | None:
    if not isinstance(body, dict):
        return f"expected an object, got {type(body).__name__}"
    bad = [name for name, ok in spec.items() if name not in body or not ok(body[name])]
    return f"missing or mistyped: {', '.join(bad)}" if bad else None


def _one_of(*values: str) -> Callable[[Any], bool]:
    return lambda v: v in values


def _address(v: Any) -> bool:
    return isinstance(v, dict) and _is_str(v.get("country"))


def customer(body: Any) -> str | None:
    return _need(
        body,
        {
            "customer_id": _is_str,
            "status": _one_of("active", "blocked"),
            "risk": _one_of("low", "high"),
            "address": _address,
        },
    )


def quote(body: Any) -> str | None:
    return _need(body, {"quote_id": _is_str, "amount_cents": lambda v: _is_int(v) and v >= 0})


def payment(order_id: str, amount_cents: int | None = None) -> Validator:
    def check(body: Any) -> str | None:
        err = _need(
            body,
            {
                "payment_id": _is_str,
                "order_id": lambda v: v == order_id,
                "amount_cents": lambda v: (
                    _is_int(v) and (amount_cents is None or v == amount_cents)
                ),
                "currency": _is_str,
                "status": _one_of("captured"),
                "refunded_cents": lambda v: _is_int(v) and v >= 0,
            },
        )
        return err

    return check


def refund(payment_id: str) -> Validator:
    return lambda body: _need(
        body,
        {
            "refund_id": _is_str,
            "payment_id": lambda v: v == payment_id,
            "amount_cents": _is_int,
        },
    )


def _lines(v: Any) -> bool:
    return isinstance(v, list) and all(
        isinstance(x, dict) and _is_str(x.get("sku")) and _is_int(x.get("qty")) for x in v
    )


def reservation(order_id: str) -> Validator:
    return lambda body: _need(
        body,
        {
            "reservation_id": _is_str,
            "order_id": lambda v: v == order_id,
            "lines": _lines,
            "status": _one_of("held", "released"),
        },
    )


def released(body: Any) -> str | None:
    return _need(body, {"status": _one_of("released")})


def shipment(body: Any) -> str | None:
    return _need(
        body,
        {
            "shipment_id": _is_str,
            "tracking_number": _is_str,
            "status": _one_of("created", "cancelled"),
        },
    )


def cancelled(body: Any) -> str | None:
    return _need(body, {"status": _one_of("cancelled")})


def message(body: Any) -> str | None:
    return _need(body, {"message_id": _is_str})


def problem(body: Any) -> str | None:
    """RFC 9457 problem details, the only acceptable shape of a refusal."""
    return _need(body, {"type": _is_str, "status": _is_int})


def listing(body: Any, key: str) -> list[dict[str, Any]] | None:
    """The rows of a ``?order_id=`` lookup, or None when the answer is unreadable.

    Accepts a bare list or an object holding the list under ``key`` (or the only list).
    """
    rows: Any = body
    if isinstance(body, dict):
        if isinstance(body.get(key), list):
            rows = body[key]
        else:
            lists = [v for v in body.values() if isinstance(v, list)]
            rows = lists[0] if len(lists) == 1 else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return None
    return rows


# -- the orchestrator's own input ---------------------------------------------------------

#: The order's limits, read by the OpenAPI document too (``openapi.py``). Patterns are
#: matched whole (``fullmatch``): ``$`` alone would let a trailing newline through.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
ORDER_LIMITS: dict[str, int] = {
    "card_token": 256,
    "lines": 100,
    "qty": 1_000_000,
    "unit_price_cents": 10**12,
    "list": 100_000,  # GET /orders?limit=
    "wait": 60,  # GET /orders/{id}?wait=, seconds
    "advance": 10 * 365 * 86400,  # POST /_admin/clock/advance, seconds: ten years
}
_ID = re.compile(ID_PATTERN.rstrip("$"))
_CURRENCY = re.compile(CURRENCY_PATTERN.rstrip("$"))


def order(body: Any) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """The normalised order and an empty list, or None and the fields that are wrong."""
    if not isinstance(body, dict):
        return None, [{"field": "(body)", "problem": "must be a JSON object"}]
    errors: list[dict[str, str]] = []

    def bad(field: str, problem: str) -> None:
        errors.append({"field": field, "problem": problem})

    for name in ("order_id", "customer_id"):
        v = body.get(name)
        if not isinstance(v, str) or not _ID.fullmatch(v):
            bad(name, "required: 1-128 characters of letters, digits, '.', '_', ':', '-'")
    if not isinstance(body.get("currency"), str) or not _CURRENCY.fullmatch(body["currency"]):
        bad("currency", "required: three capital letters")
    token = body.get("card_token")
    if not isinstance(token, str) or not token or len(token) > ORDER_LIMITS["card_token"]:
        bad("card_token", "required: a non-empty string")
    lines = body.get("lines")
    clean_lines: list[dict[str, Any]] = []
    if not isinstance(lines, list) or not lines:
        bad("lines", "required: a non-empty list")
    elif len(lines) > ORDER_LIMITS["lines"]:
        bad("lines", f"at most {ORDER_LIMITS['lines']} lines")
    else:
        for i, line in enumerate(lines):
            if not isinstance(line, dict):
                bad(f"lines[{i}]", "must be an object")
                continue
            sku, qty, price = line.get("sku"), line.get("qty"), line.get("unit_price_cents")
            if not isinstance(sku, str) or not sku:
                bad(f"lines[{i}].sku", "required: a non-empty string")
            if not (type(qty) is int and 1 <= qty <= ORDER_LIMITS["qty"]):
                bad(f"lines[{i}].qty", "required: an integer from 1")
            if not (type(price) is int and 0 <= price <= ORDER_LIMITS["unit_price_cents"]):
                bad(f"lines[{i}].unit_price_cents", "required: an integer from 0")
            clean_lines.append({"sku": sku, "qty": qty, "unit_price_cents": price})
    if errors:
        return None, errors
    return {
        "order_id": body["order_id"],
        "customer_id": body["customer_id"],
        "currency": body["currency"],
        "card_token": token,
        "lines": clean_lines,
    }, []
