"""Fault schedules as data: which fault, when it starts, when it heals.

A schedule is JSON, parsed and validated, never executed. Each entry names a fault
from the catalog (docs/faults.md) and a trigger:

- ``"at": 1.5``: seconds after the workload starts;
- ``"when": {request}``: the moment a matching request reaches a fake, before or after
  its commit. fracas parks that request with a ``hold`` rule, applies the fault, then
  lets the request go on. However orders interleave, the fault lands on the same step
  of the same order on every run, which is what replay and shrinking need.

and a heal:

- ``"for": 2.0``: seconds after it was applied (0 = at once: a crash-and-restart);
- ``"until": {request}``: when a matching request reaches a fake;
- neither: when the workload ends. Every fault is healed before the checkers run.

A fault whose trigger never fired, or that hit no request while orders were in flight,
fails the run as vacuous (``RunResult.vacuous``) unless its entry says
``"may_not_fire": true``.

Example::

    {"faults": [
      {"fault": {"kind": "latency", "target": "payment", "latency_ms": 300}, "at": 0, "for": 2},
      {"fault": {"kind": "kill", "target": "orchestrator"},
       "when": {"service": "payment", "path": "/payments", "order_id": "ord-0003",
                "phase": "after_commit"},
       "for": 0}
    ]}
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fracas.fakes import contract
from fracas.harness.faults.http import METHODS, PHASES
from fracas.harness.run.services import SERVICES


class ScheduleError(ValueError):
    """A schedule that does not validate; the message names the field and the fix."""


@dataclass(frozen=True)
class RequestMatch:
    """A request reaching a fake: the event a trigger waits for."""

    service: str
    path: str
    method: str = "POST"
    order_id: str | None = None
    nth: int = 1
    phase: str = "after_commit"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"service": self.service, "method": self.method, "path": self.path}
        if self.order_id is not None:
            out["order_id"] = self.order_id
        out["nth"] = self.nth
        out["phase"] = self.phase
        return out

    def hold_rule(self, rule_id: str) -> dict[str, Any]:
        """The fakes' fault rule that parks exactly this request (contract §4)."""
        match: dict[str, Any] = {"method": self.method, "path": self.path, "nth": [self.nth]}
        if self.order_id is not None:
            match["order_id"] = self.order_id
        return {
            "id": rule_id,
            "match": match,
            "phase": self.phase,
            "action": {"kind": "hold"},
            "times": 1,
        }

    def describe(self) -> str:
        who = f" of {self.order_id}" if self.order_id else ""
        nth = "" if self.nth == 1 else f" (#{self.nth})"
        when = "has committed" if self.phase == "after_commit" else "arrives"
        return f"when {self.method} {self.service}{self.path}{who}{nth} {when}"


@dataclass(frozen=True)
class ScheduledFault:
    """One entry of a schedule. `fault` is the catalog's JSON form, already validated."""

    fault: Mapping[str, Any]
    at: float | None = None
    when: RequestMatch | None = None
    duration: float | None = None
    until: RequestMatch | None = None
    #: True: the run does not fail when this fault never fires or hits nothing.
    may_not_fire: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fault": dict(self.fault)}
        if self.at is not None:
            out["at"] = self.at
        if self.when is not None:
            out["when"] = self.when.to_json()
        if self.duration is not None:
            out["for"] = self.duration
        if self.until is not None:
            out["until"] = self.until.to_json()
        if self.may_not_fire:
            out["may_not_fire"] = True
        return out


@dataclass(frozen=True)
class Schedule:
    faults: tuple[ScheduledFault, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"faults": [f.to_json() for f in self.faults]}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    def __len__(self) -> int:
        return len(self.faults)


FaultValidator = Callable[[Mapping[str, Any], str], Mapping[str, Any]]


def parse_schedule(data: Any, validate_fault: FaultValidator | None = None) -> Schedule:
    """Validate a schedule's JSON value. `validate_fault(json, field_path)` checks each
    fault against the catalog and returns its canonical JSON (or raises ScheduleError)."""
    check = validate_fault or _default_validator()
    if isinstance(data, list):
        data = {"faults": data}
    if not isinstance(data, dict):
        raise ScheduleError(f'schedule: expected an object with "faults", got {_kind(data)}')
    unknown = sorted(set(data) - {"faults", "version"})
    if unknown:
        raise ScheduleError(f'schedule: unknown key(s) {unknown}; expected "faults"')
    items = data.get("faults", [])
    if not isinstance(items, list):
        raise ScheduleError(f"schedule.faults: expected a list, got {_kind(items)}")
    return Schedule(
        tuple(_parse_entry(item, f"faults[{i}]", check) for i, item in enumerate(items))
    )


def loads_schedule(text: str, validate_fault: FaultValidator | None = None) -> Schedule:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScheduleError(f"schedule: not valid JSON ({exc})") from None
    return parse_schedule(data, validate_fault)


def _parse_entry(item: Any, where: str, check: FaultValidator) -> ScheduledFault:
    if not isinstance(item, dict):
        raise ScheduleError(f"{where}: expected an object, got {_kind(item)}")
    unknown = sorted(set(item) - {"fault", "at", "when", "for", "until", "may_not_fire"})
    if unknown:
        raise ScheduleError(
            f'{where}: unknown key(s) {unknown}; expected "fault", a trigger ("at" or '
            '"when"), optionally a heal ("for" or "until") and "may_not_fire"'
        )
    may_not_fire = item.get("may_not_fire", False)
    if not isinstance(may_not_fire, bool):
        raise ScheduleError(
            f"{where}.may_not_fire: expected true or false, got {_kind(may_not_fire)}"
        )
    if not isinstance(item.get("fault"), dict):
        raise ScheduleError(
            f"{where}.fault: expected a fault object such as "
            '{"kind": "latency", "target": "payment", ...}'
        )
    fault = check(item["fault"], f"{where}.fault")
    if ("at" in item) == ("when" in item):
        raise ScheduleError(
            f'{where}: give exactly one trigger, "at" (seconds) or "when" '
            "(a request reaching a fake)"
        )
    if "for" in item and "until" in item:
        raise ScheduleError(f'{where}: give at most one heal, "for" or "until", not both')
    at = _seconds(item["at"], f"{where}.at") if "at" in item else None
    when = _match(item["when"], f"{where}.when") if "when" in item else None
    duration = _seconds(item["for"], f"{where}.for") if "for" in item else None
    until = _match(item["until"], f"{where}.until") if "until" in item else None
    return ScheduledFault(fault, at, when, duration, until, may_not_fire)


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScheduleError(f"{where}: expected seconds as a number, got {_kind(value)}")
    if not 0 <= value <= 3600:
        raise ScheduleError(f"{where}: expected 0 to 3600 seconds, got {value}")
    return float(value)


def _match(value: Any, where: str) -> RequestMatch:
    if not isinstance(value, dict):
        raise ScheduleError(f"{where}: expected a request match object, got {_kind(value)}")
    known = {"service", "method", "path", "order_id", "nth", "phase"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ScheduleError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(known)}")
    service = _check_service(value.get("service"), f"{where}.service")
    path = value.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ScheduleError(f'{where}.path: expected a path such as "/payments", got {path!r}')
    method = value.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ScheduleError(f"{where}.method: expected one of {', '.join(METHODS)}, got {method!r}")
    order_id = value.get("order_id")
    if order_id is not None and (not isinstance(order_id, str) or not order_id):
        raise ScheduleError(f"{where}.order_id: expected an order id string, got {order_id!r}")
    nth = value.get("nth", 1)
    if isinstance(nth, bool) or not isinstance(nth, int) or nth < 1:
        raise ScheduleError(
            f"{where}.nth: expected a whole number from 1 (the first match), got {nth!r}"
        )
    phase = value.get("phase", "after_commit")
    if phase not in PHASES:
        raise ScheduleError(
            f'{where}.phase: expected "before_commit" or "after_commit", got {phase!r}'
        )
    check_route(service, path, method.upper(), where)
    return RequestMatch(service, path, method.upper(), order_id, nth, phase)


def _did_you_mean(got: object, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(got, known, n=1, cutoff=0.5) if isinstance(got, str) else []
    return f' Did you mean "{close[0]}"?' if close else ""


def _check_service(service: Any, where: str) -> str:
    known = contract.service_names()
    if not isinstance(service, str) or service not in known:
        raise ScheduleError(
            f"{where}: expected one of {', '.join(known)}, got {service!r}."
            + _did_you_mean(service, known)
        )
    return service


def check_route(service: str, path: str | None, method: str | None, where: str) -> None:
    """A trigger's (or an HTTP fault rule's) path and method must reach a route the
    service serves (contract: each service's routes), or the run could only end vacuous.
    ``where`` is the object holding the fields (``faults[0].when``); no path: any path."""
    reached = contract.routes_for(service, path or "/**")
    if not reached:
        paths = list(dict.fromkeys(r.path for r in contract.service(service).routes))
        elsewhere = [n for n in contract.service_names() if contract.routes_for(n, path or "")]
        other = f" {path} is a path of {elsewhere[0]}." if elsewhere else ""
        raise ScheduleError(
            f"{where}.path: expected a path {service} serves ({', '.join(paths)}; an id as "
            f"itself or as *), got {path!r}.{_did_you_mean(path, paths)}{other}"
        )
    methods = list(dict.fromkeys(r.method for r in reached))
    if method is not None and method not in methods:
        on = f" {path}" if path else ""
        one = len(methods) == 1
        hint = f' Did you mean "{methods[0]}"?' if one else _did_you_mean(method, methods)
        raise ScheduleError(
            f"{where}.method: expected {' or '.join(methods)} (what {service} serves{on}), "
            f"got {method!r}.{hint}"
        )


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _default_validator() -> FaultValidator:
    """The fault catalog's validator, imported late so schedules parse on their own."""
    from fracas.harness.faults.base import Fault, FaultValidationError

    def validate(fault: Mapping[str, Any], where: str) -> Mapping[str, Any]:
        try:
            parsed = Fault.from_json(fault)
        except FaultValidationError as exc:
            raise ScheduleError(f"{where}.{exc}") from None
        problem = getattr(parsed, "target_problem", lambda _t: None)(parsed.target)
        if problem is not None:  # a message fault: on the broker, or on a participant
            raise ScheduleError(f"{where}.target: {problem}; got {parsed.target!r}")
        _check_target(parsed.target, parsed.family, parsed.kind, f"{where}.target")
        if parsed.family == "http":
            p = parsed.params
            check_route(parsed.target, p.get("path"), p.get("method"), f"{where}.params")
        return parsed.to_json()

    return validate


#: What each fault family can act on in a topology: network and HTTP faults need a
#: fake (its proxy or its admin API); process faults also reach the orchestrator. A
#: choreography adds the broker's proxy (network) and its participants, each as
#: ``participant:NAME`` (process): the names are the choreography's own, so the form is
#: checked here and the name when the fault is applied.
TARGETS_BY_FAMILY: dict[str, tuple[str, ...]] = {
    "network": (*SERVICES, "broker"),
    "http": SERVICES,
    "process": (*SERVICES, "orchestrator"),
    "client": ("orchestrator",),  # its own inputs (harness/faults/client.py)
    # and participants; each kind narrows it (``target_problem``, harness/faults/message.py):
    # the orchestrator only as a hybrid's publisher (``message_publish_crash``)
    "message": ("broker", "orchestrator"),
}
PARTICIPANT = re.compile(r"^participant:[a-z][a-z0-9_-]{0,30}$")


def _check_target(target: str, family: str, kind: str, where: str) -> None:
    """An unknown target is caught when the schedule is parsed, not when it is applied."""
    known = TARGETS_BY_FAMILY.get(family, ())
    if target in known or (family in ("process", "message") and PARTICIPANT.match(target)):
        return
    close = difflib.get_close_matches(target, known, n=1)
    hint = f' Did you mean "{close[0]}"?' if close else ""
    raise ScheduleError(
        f"{where}: a {kind} fault ({family}) acts on one of {', '.join(known)}; "
        f"got {target!r}.{hint}"
    )


def first_call(service: str, phase: str = "before_commit") -> dict[str, Any]:
    """A ``when`` trigger on the first request any order makes to `service`'s main route
    (its effect, or its read). A network fault started by it lands on live work however
    fast or slow the orchestrator is: one due ``"at": 0`` for a few seconds can be over
    before a slow engine has called the service at all, and then the run is vacuous."""
    if service not in SERVICES:
        raise ScheduleError(f"first_call: unknown service {service!r}; expected one of "
                            f"{', '.join(SERVICES)}")  # fmt: skip
    method, path = contract.calls(service)[0]
    return {"service": service, "method": method, "path": path, "phase": phase}
