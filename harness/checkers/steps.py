"""Which saga step a journal line belongs to, from its service, method and path.

Both the witness narrator and the resilience summary speak in steps ("capture", "reserve")
rather than URLs, so the mapping lives in one place.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[str, str, re.Pattern[str], str], ...] = tuple(
    (svc, method, re.compile(pattern), step)
    for svc, method, pattern, step in (
        ("crm", "GET", r"^/customers/[^/]+$", "customer"),
        ("shipping", "POST", r"^/quotes/?$", "quote"),
        ("payment", "POST", r"^/payments/?$", "capture"),
        ("payment", "POST", r"^/payments/[^/]+/refunds/?$", "refund"),
        ("inventory", "POST", r"^/reservations/?$", "reserve"),
        ("inventory", "POST", r"^/reservations/[^/]+/release/?$", "release"),
        ("shipping", "POST", r"^/shipments/?$", "ship"),
        ("shipping", "POST", r"^/shipments/[^/]+/cancel/?$", "cancel"),
        ("notify", "POST", r"^/messages/?$", "notify"),
    )
)

#: Steps that make an effect (the ones an Idempotency-Key protects).
EFFECT_STEPS = frozenset({"capture", "refund", "reserve", "release", "ship", "cancel", "notify"})
#: Steps that undo an earlier effect.
COMPENSATIONS = frozenset({"refund", "release", "cancel"})
#: Saga order, for tables.
STEP_ORDER = (
    "customer",
    "quote",
    "capture",
    "reserve",
    "ship",
    "notify",
    "cancel",
    "release",
    "refund",
    "lookup",
    "other",
)


def classify(service: str | None, method: str | None, path: str | None) -> str:
    m, p = (method or "").upper(), path or ""
    for svc, meth, pat, step in _RULES:
        if svc == service and meth == m and pat.match(p):
            return step
    if m == "GET":
        return "lookup"
    return "other"
