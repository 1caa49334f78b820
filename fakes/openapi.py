"""The OpenAPI 3.0 document of a fake's public API, built from the same route table and
request schemas the app validates with, so the two cannot disagree. The admin API
(``/_fracas/...``), ``/healthz`` and ``/openapi.json`` are left out on purpose: they are
for the harness, and schemathesis must not reset the world under itself.
"""

from __future__ import annotations

from typing import Any

from fracas.fakes.service import PROBLEM_SCHEMA, Route, Service

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


_REPLAYED = {
    "description": "Present on a replay of a stored answer (same Idempotency-Key and body).",
    "required": False,
    "schema": {"type": "string", "enum": ["true"]},
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
    }


def _operation(route: Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in route.param_names
    ]
    params += [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in route.query
    ]
    params.append(
        {
            "name": "X-Correlation-ID",
            "in": "header",
            "required": False,
            "description": "Echoed back and recorded in the journal.",
            "schema": {"type": "string"},
        }
    )
    if route.effectful:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Same key and body: the stored answer again, no new effect.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
    responses: dict[str, Any] = {}
    for status, component in sorted(route.responses.items()):
        if component == "Problem":
            responses[str(status)] = _problem("See the problem's type.")
        else:
            ref = {"$ref": f"#/components/schemas/{component}"}
            responses[str(status)] = {
                "description": "Success",
                "content": {"application/json": {"schema": ref}},
            }
        if route.effectful:
            responses[str(status)]["headers"] = {"Idempotent-Replayed": _REPLAYED}
    if route.body is not None or route.effectful:
        responses.setdefault("400", _problem("malformed-request: the body is not JSON"))
        responses.setdefault(
            "422",
            _problem("invalid-request (fields named in errors) or idempotency-key-reused"),
        )
    if route.param_names:
        responses.setdefault("404", _problem("not-found"))
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "parameters": params,
        "responses": dict(sorted(responses.items())),
    }
    if route.body is not None:
        op["requestBody"] = {
            "required": not route.body_optional,
            "content": {"application/json": {"schema": route.body}},
        }
    return op


def build_openapi(service: Service) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in service.routes:
        paths.setdefault(route.template, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {"title": service.title, "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": {**service.components, "Problem": PROBLEM_SCHEMA}},
    }
