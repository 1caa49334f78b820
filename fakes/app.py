"""The ASGI app every fake runs: one request pipeline for all five services.

A public request goes: route → parse and validate → pick a fault rule → (before_commit
fault?) → one transaction that makes the effect, stores the idempotent answer and
writes the journal line → (after_commit fault?) → answer. The journal line commits
with the effect, so the journal and the ledger never disagree, even after SIGKILL.

Plain ASGI rather than a framework: the fault actions need the connection itself and
full control over when (and whether) the answer's bytes are written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from typing import Any
from urllib.parse import parse_qsl

from fracas.fakes import wire
from fracas.fakes.actions import Action, Exchange
from fracas.fakes.admin_openapi import build_admin_openapi
from fracas.fakes.faults import ACTIONS, Faults, HeldRequests, Rule, RuleError, parse_rules
from fracas.fakes.inflight import InFlight
from fracas.fakes.openapi import build_openapi
from fracas.fakes.service import Answer, Call, Problem, Route, Service
from fracas.fakes.store import Store
from fracas.fakes.validate import validate
from fracas.fakes.world import DECLINE_TOKEN, OK_TOKEN, World, build_world

Headers = list[tuple[bytes, bytes]]
log = logging.getLogger("fakes")
MAX_KEY_LENGTH = 255
MAX_BODY = 1 << 20


def _problem(status: int, type_: str, detail: str, **extra: Any) -> Answer:
    return Answer(status, wire.problem_body(status, type_, detail, **extra), problem=True)


def _invalid(errors: list[tuple[str, str]]) -> Answer:
    detail = "; ".join(f"{f}: {m}" for f, m in errors)
    return _problem(
        422,
        "invalid-request",
        detail,
        errors=[{"field": f, "message": m} for f, m in errors],
    )


def _fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class _TooLarge(Exception):
    pass


async def _read_body(receive: Any) -> bytes | None:
    """The whole request body, or None when the client went away."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _pre_answer(
    method: str,
    path: str,
    route: Route | None,
    allowed: list[str],
    raw: bytes,
    key: str | None,
    headers: Headers,
) -> tuple[Answer | None, Any]:
    """The answer a request gets without reaching its service (no route, a bad body or
    key), and its parsed body. It is only decided here: the request still goes through
    the fault rules and the journal like any other."""
    pre: Answer | None = None
    body: Any = None
    if route is None:
        if allowed:
            pre = _problem(405, "method-not-allowed", f"{method} is not allowed on {path}")
            headers.append((b"allow", ", ".join(allowed).encode()))
        else:
            pre = _problem(404, "not-found", f"no route {method} {path}")
    else:
        if route.body is not None:
            if route.body_optional and not raw.strip():
                body = {}
            else:
                try:
                    body = json.loads(raw)
                except (ValueError, RecursionError):
                    pre = _problem(400, "malformed-request", "the body is not valid JSON")
                else:
                    errors = validate(body, route.body)
                    if errors:
                        pre = _invalid(errors)
        if pre is None and route.effectful and key is not None:
            if not 1 <= len(key) <= MAX_KEY_LENGTH:
                expected = f"expected 1 to {MAX_KEY_LENGTH} characters"
                pre = _problem(
                    400,
                    "invalid-request",
                    f"Idempotency-Key: {expected}",
                    errors=[{"field": "Idempotency-Key", "message": expected}],
                )
    return pre, body


class FakeApp:
    def __init__(self, service: Service, store: Store) -> None:
        self.service = service
        self.store = store
        seed = store.seed
        self.world: World = build_world(0 if seed is None else seed)
        self.faults = Faults()
        self.held = HeldRequests()
        self.in_flight = InFlight()
        #: Bumped by every reset. A request that was already in the fake when it was reset
        #: (reading its body, or waiting on a delay or hold rule) belongs to a run that
        #: is over: it must not commit, or journal, into the next run's fresh ledger.
        self.epoch = 0
        self.openapi = wire.encode(build_openapi(service))
        self.admin_openapi = wire.encode(build_admin_openapi(service.name))
        self._by_path: dict[str, list[Route]] = {}
        self._templated: list[Route] = []
        for route in service.routes:
            if route.param_names:
                self._templated.append(route)
            else:
                self._by_path.setdefault(route.template, []).append(route)

    # -- ASGI ------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        epoch = self.epoch
        try:
            body = await _read_body(receive)
        except _TooLarge:
            problem = wire.problem_body(413, "request-too-large", f"at most {MAX_BODY} bytes")
            await wire.send_raw(
                send, 413, wire.encode(problem), wire.PROBLEM, [(b"connection", b"close")]
            )
            return
        if body is None:
            if scope.get("fracas.transport") is not None:
                await wire.drop(scope, receive)
            return
        try:
            await self._route(scope, receive, send, body, epoch)
        except sqlite3.OperationalError as exc:
            # The disk is full or read-only: nothing was committed (the transaction is
            # rolled back), which is what the 507 says; the fake serves on, and takes
            # writes again once there is space.
            log.warning("%s: ledger write refused: %s", self.service.name, exc)
            detail = f"the ledger cannot be written ({exc}); nothing was done"
            problem = wire.problem_body(507, "ledger-unwritable", detail)
            await wire.send_raw(send, 507, wire.encode(problem), wire.PROBLEM, [])

    async def _route(
        self, scope: dict[str, Any], receive: Any, send: Any, body: bytes, epoch: int
    ) -> None:
        path: str = scope["path"]
        if path.startswith("/_fracas/"):
            await self.admin(scope, receive, send, body)
        elif path == "/healthz":
            await wire.send_raw(send, 200, b'{"status": "ok"}', wire.JSON, [])
        elif path == "/openapi.json" and scope["method"] in ("GET", "HEAD"):
            await wire.send_raw(send, 200, self.openapi, wire.JSON, [])
        elif epoch != self.epoch:
            await self._stale(scope, receive)
        else:
            ticket = self.in_flight.enter(scope["method"], path, epoch)
            try:
                await self.public(scope, receive, send, body, epoch)
            finally:
                self.in_flight.leave(ticket)

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
        candidates = self._by_path.get(path)
        params: dict[str, str] = {}
        if candidates is None:
            candidates = []
            for route in self._templated:
                m = route.regex.match(path)
                if m:
                    candidates.append(route)
                    params = m.groupdict()
        for route in candidates:
            if route.method == method:
                return route, params, []
        return None, {}, [r.method for r in candidates]

    # -- the public API --------------------------------------------------------------
    async def _stale(self, scope: dict[str, Any], receive: Any) -> None:
        """A request of a run the fake has been reset since: cut, with no effect and no
        journal line (its client, the last run's orchestrator, is gone)."""
        await wire.drop(scope, receive)

    async def public(
        self, scope: dict[str, Any], receive: Any, send: Any, raw: bytes, epoch: int
    ) -> None:
        started = time.perf_counter()
        now = time.time()
        method: str = scope["method"]
        path: str = scope["path"]
        query_string = scope.get("query_string", b"").decode("latin-1")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        key: str | None = None
        correlation: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"idempotency-key":
                key = value.decode("latin-1")
            elif name == b"x-correlation-id":
                correlation = value
        correlation_id = correlation.decode("latin-1") if correlation is not None else None
        headers: Headers = [] if correlation is None else [(b"x-correlation-id", correlation)]

        route, params, allowed = self._match(method, path)
        pre, body = _pre_answer(method, path, route, allowed, raw, key, headers)
        order_id = self._order_id(route, params, query, body)

        rule = self.faults.pick(method, path, order_id) if self.faults.rules else None
        call = Call(self.store.db, self.world, params, query, body, key, correlation_id, now)

        def entry(answer: Answer | None, fault: dict[str, Any] | None) -> dict[str, Any]:
            return {
                "t": now,
                "service": self.service.name,
                "method": method,
                "path": path,
                "query": query_string,
                "status": None if answer is None else answer.status,
                "order_id": (answer.order_id if answer and answer.order_id else order_id),
                "idempotency_key": key,
                "correlation_id": correlation_id,
                "replayed": bool(answer and answer.replayed),
                "effect_id": None if answer is None else answer.effect_id,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "fault": fault,
            }

        x: Exchange | None = None
        if rule is not None:
            fired, action = rule, ACTIONS[rule.kind]
            x = Exchange(
                scope, receive, send, headers, rule.id, rule.settings,
                lambda: self.held.park(fired, method, path, order_id, key),
            )  # fmt: skip
            if rule.phase == "before_commit":
                if not action.runs_request:
                    await self._fault_instead(rule, action, x, route, call, pre, entry)
                    return
                went_on = await action.before(x)
                if epoch != self.epoch:
                    await self._stale(scope, receive)
                    return
                if not went_on:
                    with self.store.txn():
                        self.store.journal(entry(None, {**rule.tag(), "aborted": True}))
                    await x.drop()
                    return
                call.now = time.time()

        with self.store.txn():
            answer = pre if pre is not None else self._perform(route, call, method, path)
            self.store.journal(entry(answer, rule.tag() if rule is not None else None))
        if answer.replayed:
            headers.append((b"idempotent-replayed", b"true"))

        if rule is None or x is None or rule.phase == "before_commit":
            await wire.send_answer(send, answer, headers)
            return
        # after_commit: the effect is in the ledger; now the answer goes wrong.
        await ACTIONS[rule.kind].after(x, answer)

    def _order_id(
        self, route: Route | None, params: dict[str, str], query: dict[str, str], body: Any
    ) -> str | None:
        if isinstance(body, dict) and isinstance(body.get("order_id"), str):
            return str(body["order_id"])
        if "order_id" in query:
            return query["order_id"]
        if route is not None and route.order_of is not None:
            return route.order_of(self.store.db, params)
        return None

    def _perform(self, route: Route | None, call: Call, method: str, path: str) -> Answer:
        assert route is not None
        if route.effectful and call.idempotency_key is not None:
            fingerprint = _fingerprint(method, path, call.body)
            known = self.store.recall(call.idempotency_key)
            if known is not None:
                if known[0] == fingerprint:
                    return known[1]
                return _problem(
                    422,
                    "idempotency-key-reused",
                    f"Idempotency-Key {call.idempotency_key!r} was used with another request",
                )
            answer = self._run(route, call)
            self.store.remember(call.idempotency_key, fingerprint, answer)
            return answer
        return self._run(route, call)

    @staticmethod
    def _run(route: Route, call: Call) -> Answer:
        try:
            return route.handler(call)
        except Problem as problem:
            return Answer(problem.status, problem.body(), problem=True)

    async def _fault_instead(
        self,
        rule: Rule,
        action: Action,
        x: Exchange,
        route: Route | None,
        call: Call,
        pre: Answer | None,
        entry: Any,
    ) -> None:
        """Before commit, an action that answers instead: no effect, the answer is the
        fault (the one it would have been is computed in a dry run if the action needs it)."""
        would: Answer | None = None
        if action.needs_answer:
            with self.store.dry_run():
                would = pre or self._perform(route, call, x.scope["method"], x.scope["path"])
            would.effect_id = None
        wire_status = action.status_instead(rule.settings, would)
        with self.store.txn():
            self.store.journal(
                {**entry(None, rule.tag()), "status": wire_status, "effect_id": None}
            )
        await action.instead(x, would)

    # -- the admin API ---------------------------------------------------------------
    async def admin(self, scope: dict[str, Any], receive: Any, send: Any, raw: bytes) -> None:
        method: str = scope["method"]
        path: str = scope["path"][len("/_fracas") :]
        # blanks kept: `?since=` is a bad cursor (422), not an absent one
        raw_query = scope.get("query_string", b"").decode("latin-1")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        try:
            status, payload = await self._admin(method, path, query, raw)
        except Problem as problem:
            body = wire.encode(problem.body())
            await wire.send_raw(send, problem.status, body, wire.PROBLEM, [])
            return
        body = payload if isinstance(payload, bytes) else wire.encode(payload)
        await wire.send_raw(send, status, body, wire.JSON, [])

    async def _admin(
        self, method: str, path: str, query: dict[str, str], raw: bytes
    ) -> tuple[int, Any]:
        if path == "/state" and method == "GET":
            return 200, self.store.state()
        if path == "/openapi.json" and method == "GET":
            return 200, self.admin_openapi
        if path == "/journal" and method == "GET":
            since = _query_int(query, "since", 0, 0)
            limit = _query_int(query, "limit", 10_000, 1)
            entries, nxt = self.store.journal_since(since, limit)
            return 200, f'{{"entries": [{", ".join(entries)}], "next": {nxt}}}'.encode()
        if path == "/reset" and method == "POST":
            return 200, self._reset(_json_body(raw, optional=True))
        if path == "/world" and method == "GET":
            return 200, world_summary(self.world)
        if path == "/faults":
            if method == "GET":
                return 200, self.faults.view()
            if method == "PUT":
                self.faults.rules = _rules(_json_body(raw), self.world.seed)
                return 200, self.faults.view()
            if method == "POST":
                data = _json_body(raw)
                self.faults.rules += _rules([data], self.world.seed, self.faults.rules)
                return 201, self.faults.view()
            if method == "DELETE":
                self.faults.rules = []
                return 200, self.faults.view()
        if path.startswith("/faults/") and method == "DELETE":
            rule_id = path[len("/faults/") :]
            kept = [r for r in self.faults.rules if r.id != rule_id]
            if len(kept) == len(self.faults.rules):
                raise Problem(404, "not-found", "Not Found", f"no fault rule {rule_id!r}")
            self.faults.rules = kept
            return 200, self.faults.view()
        if path == "/in-flight" and method == "GET":
            return 200, self.in_flight.view(self.epoch)
        if path == "/held" and method == "GET":
            wait = _query_float(query, "wait", 0.0, 0.0, 300.0)
            return 200, {"held": await self.held.wait(wait)}
        if path == "/held/release" and method == "POST":
            return 200, {"released": self.held.release_all()}
        if path.startswith("/held/") and path.endswith("/release") and method == "POST":
            held_id = path[len("/held/") : -len("/release")]
            if not self.held.release(held_id):
                raise Problem(404, "not-found", "Not Found", f"no held request {held_id!r}")
            return 200, {"released": [held_id]}
        raise Problem(404, "not-found", "Not Found", f"no admin call {method} /_fracas{path}")

    def _reset(self, data: Any) -> dict[str, Any]:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise _admin_invalid("body", 'expected an object like {"seed": 7}')
        seed = data.get("seed", self.world.seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
            raise _admin_invalid("seed", f"expected an integer from 0 to 2**63-1, got {seed!r}")
        keep_faults = data.get("keep_faults", False)
        if not isinstance(keep_faults, bool):
            raise _admin_invalid("keep_faults", "expected true or false")
        started = time.perf_counter()
        world = build_world(seed)
        self.epoch += 1
        self.held.abort_all()
        if not keep_faults:
            self.faults.rules = []
        self.store.reset(world)
        self.world = world
        return {"seed": seed, "ms": round((time.perf_counter() - started) * 1000, 3)}


def world_summary(world: World) -> dict[str, Any]:
    """The edge cases of a world by id, for a harness that only speaks HTTP."""
    return {
        "seed": world.seed,
        "blocked_customers": [c.customer_id for c in world.blocked_customers()],
        "high_risk_customers": [c.customer_id for c in world.high_risk_customers()],
        "undeliverable_customers": [c.customer_id for c in world.undeliverable_customers()],
        "ordinary_customers": [c.customer_id for c in world.ordinary_customers()],
        "low_stock_skus": [s.sku for s in world.low_stock_skus()],
        "ok_token": OK_TOKEN,
        "decline_token": DECLINE_TOKEN,
    }


def _admin_invalid(field: str, expected: str) -> Problem:
    return Problem(
        422,
        "invalid-request",
        "Unprocessable Content",
        f"{field}: {expected}",
        errors=[{"field": field, "message": expected}],
    )


def _json_body(raw: bytes, optional: bool = False) -> Any:
    if optional and not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise Problem(
            400, "malformed-request", "Bad Request", "the body is not valid JSON"
        ) from None


def _rules(data: Any, seed: int, existing: list[Rule] | None = None) -> list[Rule]:
    try:
        return parse_rules(data, seed, existing)
    except RuleError as exc:
        raise _admin_invalid(exc.field, exc.expected) from None


#: SQLite's largest integer: a ``since`` or ``limit`` beyond it was an OverflowError (a 500).
QUERY_INT_MAX = 2**63 - 1


def _query_int(query: dict[str, str], name: str, default: int, minimum: int) -> int:
    if name not in query:
        return default
    try:
        value = int(query[name])
    except ValueError:
        raise _admin_invalid(name, f"expected an integer, got {query[name]!r}") from None
    if not minimum <= value <= QUERY_INT_MAX:
        raise _admin_invalid(name, f"expected an integer from {minimum} to 2**63-1, got {value}")
    return value


def _query_float(query: dict[str, str], name: str, default: float, lo: float, hi: float) -> float:
    if name not in query:
        return default
    try:
        value = float(query[name])
    except ValueError:
        raise _admin_invalid(name, f"expected a number, got {query[name]!r}") from None
    if not lo <= value <= hi:
        raise _admin_invalid(name, f"expected a number from {lo:g} to {hi:g}, got {value:g}")
    return value
