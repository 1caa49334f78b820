"""Which saga step a journal line belongs to, from its service, method and path.

Both the witness narrator and the resilience summary speak in steps ("capture", "reserve")
rather than URLs, so the mapping lives in one place.
"""

from __future__ import annotations

from fracas.fakes import contract


#: Steps that make an effect (the ones an Idempotency-Key protects); read per call so a
#: service registered at run time counts.
def effect_steps() -> frozenset[str]:
    return contract.effect_steps()


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
    for svc, route in contract.routes():
        if svc == service and route.method == m and route.step != "lookup" and route.regex.match(p):
            return route.step
    if m == "GET":
        return "lookup"
    return "other"
