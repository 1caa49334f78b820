"""The wire contract between the harness and the fake services, stated once.

Service names, each service's routes (method, path template, saga step, effectful or
not, what it compensates), the ledger tables an effect lands in, the HTTP fault actions
and where the seeded world is published. The fakes, the checkers, the timeline,
``fracas.harness.run.services`` and the docs read these facts from here instead of restating them;
the bundled orchestrator keeps its own copy on purpose (it is a system under test) and
``tests/contract`` proves the two agree.

It lives in ``fakes`` because the fakes are what implement it, and it imports nothing
but the standard library so every layer may read it (see the import contracts in
``pyproject.toml``). The registry is open at run time: ``register`` adds a service (a
test's sixth fake, a user's own) and every reader picks it up (docs/extending.md).
"""

from __future__ import annotations

import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

#: Where a fake publishes the edge-case ids of its seeded world (contract §3).
WORLD_PATH = "/_fracas/world"
#: Where a fake publishes its ledger (contract §6).
STATE_PATH = "/_fracas/state"
#: Where fault rules live (contract §4).
FAULTS_PATH = "/_fracas/faults"
#: What the fakes' ``hold`` rules are parking; ``{HELD_PATH}/{id}/release`` lets one go.
HELD_PATH = "/_fracas/held"
#: The public requests a fake is serving now (``fakes/inflight.py``): the harness reads
#: the ledgers only once the requests it saw there have left.
IN_FLIGHT_PATH = "/_fracas/in-flight"


def _action_modules() -> tuple[str, ...]:
    """The HTTP fault actions are the modules of ``fakes/actions/`` (one file each, named
    after the action), listed without importing them so this module stays dependency-free."""
    here = Path(__file__).resolve().parent / "actions"
    return tuple(sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name != "base"))


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a setting (or a fault param) that has none: it must be given.
REQUIRED: Any = _Required()


#: A setting's JSON type. An HTTP fault action's settings are ``int``, ``float`` or
#: ``str`` (what ``fracas.fakes.actions.base.read_setting`` reads); a fault kind's params
#: (``fracas.harness.faults.base.Param``, a Setting) may also be ``bool`` or ``int_list``.
SettingType = Literal["int", "float", "str", "bool", "int_list"]


@dataclass(frozen=True)
class Setting:
    """One field of an HTTP fault action's JSON, declared once where the action is written.

    The fakes read a rule's action with it (``fracas.fakes.actions.base.Action.parse``) and
    the harness offers it as a param of the fault kind it builds for the action, so the
    two sides cannot disagree on a name, a range or a default. It lives here because
    both sides may import this module and nothing else of the other; the harness's
    ``Param`` is this class with the fault catalog's checks and hints added.
    """

    name: str
    type: SettingType
    #: what it means, for the fault catalog's hints ("how long to wait, in ms")
    doc: str
    default: Any = REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    #: a value to show in hints when it is not obvious from the range or the choices
    example: Any = None


#: What an HTTP fault rule may do to a matching request (contract §4): the built-in actions.
HTTP_FAULT_ACTIONS: tuple[str, ...] = _action_modules()
_actions: set[str] = set(HTTP_FAULT_ACTIONS)


def add_http_fault_action(kind: str) -> None:
    """Called by the fakes' ``register``: an action defined outside ``fakes/actions/`` (a
    test's, a user's) is named here too, so readers that may import only this module (the
    history's fault labels) know it."""
    _actions.add(kind)


def remove_http_fault_action(kind: str) -> None:
    if kind in HTTP_FAULT_ACTIONS:
        raise ValueError(f"{kind!r} is a built-in HTTP fault action and cannot be removed")
    _actions.discard(kind)


def http_fault_actions() -> tuple[str, ...]:
    """Every HTTP fault action now: the built-in ones and any registered since."""
    return tuple(sorted(_actions))
#: When a rule acts: before the handler commits its effect, or after.
FAULT_PHASES: tuple[str, ...] = ("before_commit", "after_commit")


@dataclass(frozen=True)
class RouteSpec:
    """One route, declared here once: the fake that serves it binds a handler to it by
    ``operation`` (``fracas.fakes.service.Route``), the harness reads which saga step a
    request is."""

    method: str
    #: ``/payments/{payment_id}/refunds``: ``{name}`` is one path segment
    path: str
    #: the saga step ("capture", "refund"); ``lookup`` for reads that are not a step
    step: str
    #: makes an effect, so an Idempotency-Key protects it
    effectful: bool = False
    #: the step this one undoes ("refund" compensates "capture"), if any
    compensates: str | None = None
    #: its OpenAPI operation id, by which the fake binds its handler to this route
    operation: str = field(kw_only=True)
    #: its answer names a record it made (a payment, a refund): a 2xx without that id is
    #: an effect the fake failed to record, which the witness says in words
    records: bool = field(default=False, kw_only=True)

    @property
    def regex(self) -> re.Pattern[str]:
        """The path as a pattern (a trailing slash is tolerated, as the fakes do)."""
        return re.compile("^" + re.sub(r"{\w+}", "[^/]+", self.path.rstrip("/")) + "/?$")

    @property
    def glob(self) -> str:
        """The path as fault rules and triggers match it (``{id}`` as ``*``)."""
        return re.sub(r"{\w+}", "*", self.path)


def path_regex(pattern: str) -> re.Pattern[str]:
    """A fault rule's or a trigger's path pattern as the fakes match it: ``*`` matches
    within one segment, ``**`` across segments, ``{name}`` one segment."""
    out = []
    for token in re.split(r"(\*\*|\*|\{[^/{}]*\})", pattern):
        if token == "**":
            out.append(".*")
        elif token == "*":
            out.append("[^/]*")
        elif token.startswith("{") and token.endswith("}"):
            out.append("[^/]+")
        else:
            out.append(re.escape(token))
    return re.compile("^" + "".join(out) + "$")


def _segments(path: str) -> list[str]:
    return (path.rstrip("/") or "/").split("/")


def _can_meet(pattern: list[str], route: list[str]) -> bool:
    """Some request path matches both: segment by segment, a route's ``{name}`` takes any
    segment, a ``**`` segment any number of them. Errs towards yes (a ``**`` inside a
    segment), so a pattern that could fire is never refused."""
    if not pattern:
        return not route
    head, rest = pattern[0], pattern[1:]
    if "**" in head:
        return head != "**" or any(_can_meet(rest, route[k:]) for k in range(len(route) + 1))
    if not route:
        return False
    seg = route[0]
    fits = head != "" if seg.startswith("{") else path_regex(head).match(seg) is not None
    return fits and _can_meet(rest, route[1:])


def routes_for(service_name: str, path: str) -> tuple[RouteSpec, ...]:
    """The routes of a service a path pattern can reach (``/payments/pay-1/refunds``,
    ``/payments/*``): a fault rule or a trigger whose path reaches none can never fire,
    which the harness says when it parses the schedule instead of after a vacuous run."""
    want = _segments(path)
    return tuple(r for r in service(service_name).routes if _can_meet(want, _segments(r.path)))


@dataclass(frozen=True)
class LedgerTable:
    """A table an effect lands in; every row names its order in ``order_id``."""

    table: str
    #: the row's own id column (``payment_id``)
    id_column: str
    #: rows are effects the saga made (payments, shipments), not seeded reference data
    effect: bool = True


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    routes: tuple[RouteSpec, ...]
    #: every table ``/_fracas/state`` lists, effect tables flagged
    ledger: tuple[LedgerTable, ...] = field(default=())

    @property
    def effect_tables(self) -> tuple[LedgerTable, ...]:
        return tuple(t for t in self.ledger if t.effect)

    def route(self, operation: str) -> RouteSpec:
        """The route with this operation id: what a fake binds its handler to."""
        for r in self.routes:
            if r.operation == operation:
                return r
        known = ", ".join(r.operation for r in self.routes)
        raise KeyError(f"{self.name} has no route {operation!r}; its routes are {known}")


def _ref(table: str, id_column: str) -> LedgerTable:
    return LedgerTable(table, id_column, effect=False)


_BUILTIN: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "crm",
        (RouteSpec("GET", "/customers/{customer_id}", "customer", operation="getCustomer"),),
        (_ref("customers", "customer_id"),),
    ),
    ServiceSpec(
        "payment",
        (
            RouteSpec("POST", "/payments", "capture", effectful=True, operation="capturePayment", records=True),
            RouteSpec("GET", "/payments", "lookup", operation="listPayments"),
            RouteSpec("GET", "/payments/{payment_id}", "lookup", operation="getPayment"),
            RouteSpec(
                "POST",
                "/payments/{payment_id}/refunds",
                "refund",
                effectful=True,
                compensates="capture", operation="refundPayment", records=True,
            ),
        ),
        (LedgerTable("payments", "payment_id"), LedgerTable("refunds", "refund_id")),
    ),
    ServiceSpec(
        "inventory",
        (
            RouteSpec("GET", "/stock/{sku}", "lookup", operation="getStock"),
            RouteSpec("POST", "/reservations", "reserve", effectful=True, operation="createReservation", records=True),
            RouteSpec("GET", "/reservations", "lookup", operation="listReservations"),
            RouteSpec("GET", "/reservations/{reservation_id}", "lookup", operation="getReservation"),
            RouteSpec(
                "POST",
                "/reservations/{reservation_id}/release",
                "release",
                effectful=True,
                compensates="reserve", operation="releaseReservation",
            ),
        ),
        (_ref("stock", "sku"), LedgerTable("reservations", "reservation_id")),
    ),
    ServiceSpec(
        "shipping",
        (
            RouteSpec("POST", "/quotes", "quote", operation="createQuote"),
            RouteSpec("POST", "/shipments", "ship", effectful=True, operation="createShipment", records=True),
            RouteSpec("GET", "/shipments", "lookup", operation="listShipments"),
            RouteSpec("GET", "/shipments/{shipment_id}", "lookup", operation="getShipment"),
            RouteSpec(
                "POST",
                "/shipments/{shipment_id}/cancel",
                "cancel",
                effectful=True,
                compensates="ship", operation="cancelShipment",
            ),
        ),
        (
            _ref("rates", "country"),
            _ref("weights", "sku"),
            LedgerTable("shipments", "shipment_id"),
        ),
    ),
    ServiceSpec(
        "notify",
        (
            RouteSpec("POST", "/messages", "notify", effectful=True, operation="sendMessage", records=True),
            RouteSpec("GET", "/messages", "lookup", operation="listMessages"),
            RouteSpec("GET", "/messages/{message_id}", "lookup", operation="getMessage"),
        ),
        (LedgerTable("messages", "message_id"),),
    ),
)

_registry: dict[str, ServiceSpec] = {s.name: s for s in _BUILTIN}

#: The built-in services, in saga order (what ``python -m fracas.fakes`` can run).
BUILTIN_SERVICES: tuple[str, ...] = tuple(s.name for s in _BUILTIN)

#: A fake exits with this code when another process holds the port it was given (the
#: harness then starts it on another port); any other non-zero exit is a real failure.
EXIT_PORT_TAKEN = 98


def register(spec: ServiceSpec) -> ServiceSpec:
    """Add (or replace) a service; checkers, timeline and harness see it from now on."""
    _registry[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a service added with ``register`` (tests clean up after themselves)."""
    if name in BUILTIN_SERVICES:
        raise ValueError(f"{name!r} is a built-in service and cannot be unregistered")
    _registry.pop(name, None)


def services() -> tuple[ServiceSpec, ...]:
    return tuple(_registry.values())


def service_names() -> tuple[str, ...]:
    return tuple(_registry)


def service(name: str) -> ServiceSpec:
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(
            f"unknown service {name!r}; expected one of {', '.join(_registry)}"
        ) from None


def effect_tables() -> tuple[tuple[str, LedgerTable], ...]:
    """``(service, table)`` for every table an effect lands in, across services."""
    return tuple((s.name, t) for s in _registry.values() for t in s.effect_tables)


def routes() -> tuple[tuple[str, RouteSpec], ...]:
    return tuple((s.name, r) for s in _registry.values() for r in s.routes)


def effect_steps() -> frozenset[str]:
    return frozenset(r.step for _, r in routes() if r.effectful)


def record_steps() -> frozenset[str]:
    """The steps whose answer names a record they made (``RouteSpec.records``)."""
    return frozenset(r.step for _, r in routes() if r.records)


def compensations() -> dict[str, str]:
    """compensation step -> the step it undoes."""
    return {r.step: r.compensates for _, r in routes() if r.compensates}


def calls(name: str) -> tuple[tuple[str, str], ...]:
    """``(method, glob)`` of the saga calls an orchestrator makes to a service (every route
    that is a step, ``{id}`` as ``*``): forward effects first, then the other steps, then
    compensations, so ``calls(name)[0]`` is the service's main effect (or its read)."""
    steps = [r for r in service(name).routes if r.step != "lookup"]
    steps.sort(key=lambda r: (r.compensates is not None, not r.effectful))
    return tuple((r.method, r.glob) for r in steps)


# -- the saga (contract §3) --------------------------------------------------------------
#: The saga's steps in the order it takes them: the forward steps, then the compensations,
#: last effect undone first. Each is the ``step`` of a route above; tables of steps (the
#: coverage map, the resilience summary) are in this order.
SAGA: tuple[str, ...] = (
    "customer", "quote", "capture", "reserve", "ship", "notify", "cancel", "release", "refund",
)  # fmt: skip


@dataclass(frozen=True)
class Intent:
    """A kind of order the workload makes from the seeded world, and what the saga does
    with it when nothing goes wrong: which steps it calls, in call order, what the
    orchestrator under test must be able to do for it (adapter capabilities), and why it
    must fail, if it must: the world decides that, so no fault excuses completing it."""

    name: str
    reaches: tuple[str, ...]
    needs: frozenset[str] = frozenset()
    #: why the order must end failed ("card declined"); None: it should complete, though
    #: a fault may make failing it (with everything undone) the right end
    fails_because: str | None = None

    @property
    def outcome(self) -> str:
        """The terminal status the order should reach when nothing goes wrong."""
        return "completed" if self.fails_because is None else "failed"

    @property
    def refused_at(self) -> str | None:
        """The step whose answer refuses the order (the card declined at the capture, the
        stock out at the reservation), None for an order meant to complete: that step
        makes no effect, so nothing of it can land late."""
        if self.fails_because is None:
            return None
        forward = [s for s in self.reaches if s in SAGA[:5]]
        return forward[-1] if forward else None

    @property
    def expectation(self) -> str:
        """How a witness states it: "should have failed: unknown customer"."""
        if self.fails_because is None:
            return "should have completed"
        return f"should have failed: {self.fails_because}"


_FORWARD = SAGA[:6]  # customer .. notify: an order that nothing stops
_REVIEW = frozenset({"review"})

#: Every intent, in the order the workload offers them (a draw's first choice is "ok").
#: Every failure after the customer read ends with an ``order_failed`` message; an
#: unknown customer has nobody to tell. A review timeout needs a clock the harness can
#: advance, or it would end as a false liveness violation.
INTENTS: tuple[Intent, ...] = (
    Intent("ok", _FORWARD),
    Intent("blocked", ("customer", "notify"), fails_because="customer blocked"),
    Intent("unknown_customer", ("customer",), fails_because="unknown customer"),
    Intent("declined", (*_FORWARD[:3], "notify"), fails_because="card declined"),
    Intent("out_of_stock", (*_FORWARD[:4], "refund", "notify"), fails_because="out of stock"),
    Intent("undeliverable", (*_FORWARD[:5], "release", "refund", "notify"),
           fails_because="address undeliverable"),
    Intent("review_approve", _FORWARD, needs=_REVIEW),
    Intent("review_reject", ("customer", "notify"), needs=_REVIEW,
           fails_because="review rejected"),
    Intent("review_timeout", ("customer", "notify"), needs=_REVIEW | {"advance_clock"},
           fails_because="no review decision in time"),
)  # fmt: skip


def intent(name: str) -> Intent:
    for i in INTENTS:
        if i.name == name:
            return i
    raise KeyError(f"unknown intent {name!r}; expected one of {', '.join(i.name for i in INTENTS)}")


def step_route(step: str) -> tuple[str, RouteSpec]:
    """``(service, route)`` that makes ``step`` (the first such route of any service)."""
    for svc, route in routes():
        if route.step == step:
            return svc, route
    raise KeyError(f"no route makes the step {step!r}")
