"""The OpenAPI 3.0 document of a fake's admin API (``/_fracas/...``), served at
``/_fracas/openapi.json``.

The public API's document (``openapi.py``) leaves the admin API out so that a user's
schemathesis run cannot reset the world under itself; this one is for the harness's
users and for fracas's own fuzzing (tests/fakes/test_admin_fuzz.py). The paths are the
contract's, the rule actions and their settings come from the action registry, and the
ranges are the ones ``faults.parse_rule`` and ``app._reset`` check, so a rule the
document allows is a rule the fake takes.
"""

from __future__ import annotations

from typing import Any

from fracas.fakes.actions import REGISTRY as ACTIONS
from fracas.fakes.contract import (
    FAULT_PHASES,
    FAULTS_PATH,
    HELD_PATH,
    IN_FLIGHT_PATH,
    STATE_PATH,
    WORLD_PATH,
    Setting,
)
from fracas.fakes.service import PROBLEM_SCHEMA

_INT64 = {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
_COUNT = {"type": "integer", "minimum": 1, "maximum": 2**31}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _setting(settings: list[Setting]) -> dict[str, Any]:
    """One action field as every action that has it takes it: the widest range, nullable
    where a null means the default."""
    s = settings[0]
    if s.choices is not None:
        schema: dict[str, Any] = {"enum": sorted({c for x in settings for c in x.choices or ()})}
    elif s.type == "str":
        schema = {"type": "string", "minLength": 1}
    else:
        schema = {"type": "integer" if s.type == "int" else "number"}
        lows = [x.minimum for x in settings]
        highs = [x.maximum for x in settings]
        if None not in lows:
            schema["minimum"] = min(x for x in lows if x is not None)
        if None not in highs:
            schema["maximum"] = max(x for x in highs if x is not None)
    return _nullable(schema) if all(x.default is None for x in settings) else schema


def _action() -> dict[str, Any]:
    """A rule's action: ``kind`` and the fields of that kind (another kind's field is
    refused, so the document lists every field and the fake says which belong)."""
    fields: dict[str, list[Setting]] = {}
    for action in ACTIONS.values():
        for setting in action.settings:
            fields.setdefault(setting.name, []).append(setting)
    properties = {"kind": {"enum": sorted(ACTIONS)}}
    properties.update({name: _setting(found) for name, found in sorted(fields.items())})
    return {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": properties,
    }


def _rule() -> dict[str, Any]:
    match = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "method": _nullable({"type": "string", "minLength": 1}),
            "path": _nullable({"type": "string", "minLength": 1}),
            "order_id": _nullable({"type": "string", "minLength": 1}),
            "nth": _nullable(
                {"anyOf": [_COUNT, {"type": "array", "minItems": 1, "items": _COUNT}]}
            ),
            "probability": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
        },
    }
    return {
        "type": "object",
        "required": ["action"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "match": match,
            "phase": {"enum": list(FAULT_PHASES)},
            "action": _action(),
            "times": _nullable({"type": "integer", "minimum": 0, "maximum": 2**31}),
            "seed": _INT64,
        },
    }


def _obj(*required: str, **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


_ARRAY = {"type": "array"}
_IDS = {"type": "array", "items": {"type": "string"}}
_RULES = _json(_obj("rules", rules={"type": "array", "items": {"type": "object"}}))
_INVALID = _problem("invalid-request: the field named in errors and what was expected")
_MALFORMED = _problem("malformed-request: the body is not JSON")
_NOT_FOUND = _problem("not-found")


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _op(op_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"operationId": op_id, "summary": summary, "responses": responses, **extra}


def _paths() -> dict[str, Any]:
    rule_list = {"anyOf": [
        _obj("rules", rules={"type": "array", "items": _ref("Rule")}),
        {"type": "array", "items": _ref("Rule")},
    ]}  # fmt: skip
    rule_changes = {"200": _RULES, "400": _MALFORMED, "422": _INVALID}
    return {
        STATE_PATH: {"get": _op("getState", "The whole ledger", {
            "200": _json(_obj("service", "seed", "tables", tables={"type": "object"}))})},
        "/_fracas/journal": {"get": _op("getJournal", "Journal entries after seq `since`", {
            "200": _json(_obj("entries", "next", entries=_ARRAY, next={"type": "integer"})),
            "422": _INVALID,
        }, parameters=[_query("since", {**_INT64, "minimum": 0}),
                       _query("limit", {**_INT64, "minimum": 1})])},
        "/_fracas/reset": {"post": _op("reset", "Wipe and reseed the world", {
            "200": _json(_obj("seed", "ms", seed={"type": "integer"}, ms={"type": "number"})),
            "400": _MALFORMED, "422": _INVALID,
        }, requestBody=_body(_nullable(_obj(
            seed={"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
            keep_faults={"type": "boolean"},
        )), required=False))},
        WORLD_PATH: {"get": _op("getWorld", "The edge-case ids of the world", {
            "200": _json(_obj("seed", seed={"type": "integer"}))})},
        FAULTS_PATH: {
            "get": _op("listFaults", "The fault rules, with matched, fired, retired", {"200": _RULES}),
            "put": _op("replaceFaults", "Replace every rule", rule_changes,
                       requestBody=_body(rule_list)),
            "post": _op("addFault", "Add one rule", {"201": _RULES, "400": _MALFORMED,
                                                     "422": _INVALID},
                        requestBody=_body(_ref("Rule"))),
            "delete": _op("clearFaults", "Remove every rule", {"200": _RULES}),
        },
        f"{FAULTS_PATH}/{{rule_id}}": {"delete": _op("deleteFault", "Remove one rule", {
            "200": _RULES, "404": _NOT_FOUND}, parameters=[_path("rule_id")])},
        IN_FLIGHT_PATH: {"get": _op("getInFlight", "The public requests being served now", {
            "200": _json(_obj("in_flight", "requests", in_flight={"type": "integer"},
                              requests=_ARRAY))})},
        HELD_PATH: {"get": _op("listHeld", "Held requests; waits up to `wait` s for one", {
            "200": _json(_obj("held", held=_ARRAY)), "422": _INVALID,
        }, parameters=[_query("wait", {"type": "number", "minimum": 0, "maximum": 300})])},
        f"{HELD_PATH}/release": {"post": _op("releaseAll", "Let every held request go on", {
            "200": _json(_obj("released", released=_IDS))})},
        f"{HELD_PATH}/{{held_id}}/release": {"post": _op("release", "Let one go on", {
            "200": _json(_obj("released", released=_IDS)), "404": _NOT_FOUND,
        }, parameters=[_path("held_id")])},
    }  # fmt: skip


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def build_admin_openapi(service_name: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": f"fracas {service_name} fake: admin API", "version": "1.0.0"},
        "paths": _paths(),
        "components": {"schemas": {"Rule": _rule(), "Problem": PROBLEM_SCHEMA}},
    }
