"""HTTP faults: rules in a fake's admin API (``/_fracas/faults``, contract §4).

A fake holds one list of rules; applying a fault adds its rule to that list (replacing a
rule with the same id) and healing removes just that rule, so faults from different
scenario steps coexist. Where the fake offers ``POST /_fracas/faults`` (one rule) and
``DELETE /_fracas/faults/{id}``, those are used, so the other rules keep their counters
(``nth`` and ``times`` go on counting); an admin API with only the contract's GET/PUT/DELETE
gets the whole list read, changed and written back, which restarts every rule's counters.
Either way callers applying faults to one fake from several threads must serialise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from fracas.fakes.contract import FAULTS_PATH, HELD_PATH
from fracas.harness.faults.base import Fault, Param, missing_target
from fracas.harness.faults.context import FaultContext, FaultError

PHASES: tuple[str, ...] = ("before_commit", "after_commit")
METHODS: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

MATCH_PARAMS: tuple[Param, ...] = (
    Param(
        "path",
        "str",
        "the path pattern (* one segment, ** any, {name} one segment); any path when left out",
        default=None,
        example="/payments",
    ),
    Param(
        "method",
        "str",
        "only requests with this method (any method when left out)",
        default=None,
        choices=METHODS,
    ),
    Param("order_id", "str", "only requests for this order", default=None, example="ord-0003"),
    Param(
        "nth",
        "int_list",
        "which matching requests, counted from 1",
        default=None,
        minimum=1,
        example=[1],
    ),
    Param(
        "probability",
        "float",
        "the chance a matching request is hit, rolled with the rule's seed",
        default=None,
        minimum=0.0,
        maximum=1.0,
        example=0.5,
    ),
    Param("seed", "int", "seed for the probability roll", default=None, example=7),
    Param(
        "phase",
        "str",
        "before_commit: nothing happens; after_commit: the effect is made, then the answer "
        "is lost or garbled",
        default="before_commit",
        choices=PHASES,
    ),
    Param(
        "times",
        "int",
        "how often the rule fires before it retires itself (no limit when left out)",
        default=None,
        minimum=1,
        example=1,
    ),
)


def admin_of(fault: Fault, ctx: FaultContext) -> str:
    url = ctx.admin_url(fault.target)
    if url is None:
        raise missing_target(fault, ctx, "admin", "fake admin API")
    return url.rstrip("/")


#: What GET adds to each rule (counters); a PUT must not send them back.
VIEW_ONLY_KEYS = frozenset({"matched", "fired", "retired"})


def get_rules(admin_url: str, timeout: float = 5.0) -> tuple[list[dict[str, Any]], bool]:
    """The fake's rules as they were PUT, and whether it wraps them as ``{"rules": [...]}``."""
    resp = httpx.get(admin_url + FAULTS_PATH, timeout=timeout, trust_env=False)
    resp.raise_for_status()
    data = resp.json()
    wrapped = isinstance(data, dict)
    rules = (data.get("rules") or []) if isinstance(data, dict) else (data or [])
    return [{k: v for k, v in r.items() if k not in VIEW_ONLY_KEYS} for r in rules], wrapped


def put_rules(
    admin_url: str, rules: Sequence[dict[str, Any]], wrapped: bool = True, timeout: float = 5.0
) -> None:
    body: object = {"rules": list(rules)} if wrapped else list(rules)
    resp = httpx.put(admin_url + FAULTS_PATH, json=body, timeout=timeout, trust_env=False)
    resp.raise_for_status()


def clear_rules(admin_url: str, timeout: float = 5.0) -> None:
    resp = httpx.delete(admin_url.rstrip("/") + FAULTS_PATH, timeout=timeout, trust_env=False)
    resp.raise_for_status()


#: Statuses that mean "this admin API has no such route": fall back to GET + PUT.
_UNSUPPORTED = frozenset({404, 405, 501})


def add_rule(
    admin_url: str, rule: dict[str, Any], rules: list[dict[str, Any]], wrapped: bool
) -> None:
    """POST one rule (other rules keep their counters); else PUT the merged list."""
    resp = httpx.post(admin_url + FAULTS_PATH, json=rule, timeout=5.0, trust_env=False)
    if resp.status_code in _UNSUPPORTED:
        put_rules(admin_url, [*rules, rule], wrapped)
        return
    resp.raise_for_status()


def remove_rule(admin_url: str, rule_id: str, rules: list[dict[str, Any]], wrapped: bool) -> None:
    """DELETE one rule by id; else PUT the list without it."""
    resp = httpx.delete(
        f"{admin_url}{FAULTS_PATH}/{quote(rule_id, safe='')}", timeout=5.0, trust_env=False
    )
    if resp.status_code in _UNSUPPORTED:
        put_rules(admin_url, [r for r in rules if r.get("id") != rule_id], wrapped)
        return
    resp.raise_for_status()


class HttpRuleFault(Fault):
    """One rule whose id is the fault's id; the action comes from the kind."""

    family = "http"
    action_kind: ClassVar[str]

    def action(self) -> dict[str, Any]:
        """The rule's ``action`` object; kinds with settings extend it."""
        return {"kind": self.action_kind}

    def rule(self) -> dict[str, Any]:
        p = self.params
        match: dict[str, Any] = {}
        for key in ("method", "path", "order_id", "nth", "probability"):
            if p.get(key) is not None:
                match[key] = p[key]
        rule: dict[str, Any] = {
            "id": self.id,
            "match": match,
            "phase": p["phase"],
            "action": self.action(),
        }
        if p.get("times") is not None:
            rule["times"] = p["times"]
        if p.get("seed") is not None:
            rule["seed"] = p["seed"]
        return rule

    def _edit(self, ctx: FaultContext, add: bool) -> None:
        url = admin_of(self, ctx)
        try:
            rules, wrapped = get_rules(url)
            present = any(r.get("id") == self.id for r in rules)
            if present:
                remove_rule(url, self.id, rules, wrapped)
                rules = [r for r in rules if r.get("id") != self.id]
            if add:
                add_rule(url, self.rule(), rules, wrapped)
        except httpx.HTTPStatusError as exc:
            raise FaultError(
                f"{self.kind} fault on {self.target!r}: {exc.request.method} {exc.request.url} "
                f"answered {exc.response.status_code}: {exc.response.text[:300]}"
            ) from exc
        except httpx.HTTPError as exc:
            raise FaultError(
                f"{self.kind} fault on {self.target!r}: admin API at {url} did not answer "
                f"({exc.__class__.__name__}: {exc}); is the fake running?"
            ) from exc

    def apply(self, ctx: FaultContext) -> None:
        self._edit(ctx, add=True)

    def heal(self, ctx: FaultContext) -> None:
        proc = ctx.process(self.target)
        if proc is not None and not proc.alive:
            return  # a fake keeps its rules in memory: a dead one has none, nor will it
        self._edit(ctx, add=False)


def held_requests(client: httpx.Client, admin_url: str) -> list[dict[str, Any]]:
    """What a fake's ``hold`` rules are parking now (``GET /_fracas/held``)."""
    held = client.get(f"{admin_url}{HELD_PATH}", params={"wait": 0}).json()
    items = held.get("held", held) if isinstance(held, dict) else held
    return list(items or [])


def release_held(client: httpx.Client, admin_url: str, held_id: Any) -> None:
    """Let one parked request go on."""
    client.post(f"{admin_url}{HELD_PATH}/{held_id}/release")
