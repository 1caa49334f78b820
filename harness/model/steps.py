"""The saga's steps as the harness speaks of them, read from the contract's one table
(``fracas.fakes.contract``: ``SAGA`` and each route's ``step``).

The witness narrator, the resilience summary, the coverage map and the search speak in
steps ("capture", "reserve") rather than URLs, so the mapping lives in one place.
"""

from __future__ import annotations

from fracas.fakes import contract


#: Steps that make an effect (the ones an Idempotency-Key protects); read per call so a
#: service registered at run time counts.
def effect_steps() -> frozenset[str]:
    return contract.effect_steps()


#: Saga order, for tables: the saga's steps, then reads that are no step, then the rest.
STEP_ORDER: tuple[str, ...] = (*contract.SAGA, "lookup", "other")

#: Where each step of the saga is served, in saga order: (step, service, method, path
#: glob), the glob as fault rules and triggers match it.
STEPS: tuple[tuple[str, str, str, str], ...] = tuple(
    (step, svc, route.method, route.glob)
    for step in contract.SAGA
    for svc, route in [contract.step_route(step)]
)


def classify(service: str | None, method: str | None, path: str | None) -> str:
    m, p = (method or "").upper(), path or ""
    for svc, route in contract.routes():
        if svc == service and route.method == m and route.step != "lookup" and route.regex.match(p):
            return route.step
    if m == "GET":
        return "lookup"
    return "other"
