"""The OpenAPI 3.0 document of the embedded Toxiproxy API, served at ``/openapi.json``.

The real server publishes none; fracas serves one so users can read the API and so the
harness can fuzz it with schemathesis (tests/toxiproxy/test_tp_schemathesis.py). It
describes what the server does, Go's decoding quirks included: a ``null`` field (or a
``null`` body) counts as absent, unknown keys are ignored, ``stream`` is matched in any
case. The toxic types come from the registry, so a new toxic is documented by being
registered. The only 5xx is the documented one: a listen address that cannot be bound.
"""

from __future__ import annotations

from typing import Any

from fracas.harness.toxiproxy.server import VERSION
from fracas.harness.toxiproxy.toxics import REGISTRY

_ERROR = {"$ref": "#/components/schemas/Error"}


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c}]" for c in word)


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ERROR, description)


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


_NO_CONTENT = {"description": "Done"}
#: Which keys count depends on the type, so the document can only say "an object": the
#: type's own attributes must be int64s (a value it cannot take, a negative rate, is a
#: 400); keys it does not have are ignored whatever they hold, as Go ignores them.
_ATTRIBUTES = {
    "type": "object",
    "nullable": True,
    "description": "by type: "
    + "; ".join(
        f"{t}: {', '.join(c.attribute_names()) or '-'}" for t, c in sorted(REGISTRY.items())
    ),
}
_BAD = _error("bad request body: ... (Go's JSON decoding texts), or a value out of range")
#: A name in the path that matches no route segment (an empty one) is the router's 404.
_MISSING = {
    "description": "proxy not found / toxic not found, or no such route",
    "content": {
        "application/json": {"schema": _ERROR},
        "text/plain": {"schema": {"type": "string"}},
    },
}
_BIND = _error("the listen address cannot be bound: listen tcp ...: bind: ...")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": {"type": "string"},
            "status": {"type": "integer"},
            "proxies": {"type": "array", "items": _ref("Proxy")},
        },
    },
    "Toxic": {
        "type": "object",
        "required": ["name", "type", "stream", "toxicity", "attributes"],
        "properties": {
            "name": {"type": "string"},
            "type": {"enum": sorted(REGISTRY)},
            "stream": {"type": "string"},
            "toxicity": {"type": "number"},
            "attributes": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    },
    "Proxy": {
        "type": "object",
        "required": ["name", "listen", "upstream", "enabled", "toxics"],
        "properties": {
            "name": {"type": "string"},
            "listen": {"type": "string"},
            "upstream": {"type": "string"},
            "enabled": {"type": "boolean"},
            "toxics": {"type": "array", "items": _ref("Toxic")},
        },
    },
    "NewProxy": _nullable({
        "type": "object",
        "required": ["name", "upstream"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "upstream": {"type": "string", "minLength": 1},
            "listen": _nullable({"type": "string"}),
            "enabled": _nullable({"type": "boolean"}),
        },
    }),
    "ProxyChange": _nullable({
        "type": "object",
        "properties": {
            "listen": _nullable({"type": "string"}),
            "upstream": _nullable({"type": "string"}),
            "enabled": _nullable({"type": "boolean"}),
        },
    }),
    "NewToxic": _nullable({
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"enum": sorted(REGISTRY)},
            "name": _nullable({"type": "string"}),
            "stream": _nullable({
                "type": "string",
                "pattern": f"^({_any_case('upstream')}|{_any_case('downstream')})$",
            }),
            "toxicity": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "attributes": _ATTRIBUTES,
        },
    }),
    "ToxicChange": _nullable({
        "type": "object",
        "properties": {
            "toxicity": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "attributes": _ATTRIBUTES,
        },
    }),
}  # fmt: skip


def _param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _op(op_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"operationId": op_id, "summary": summary, "responses": responses, **extra}


_PROXY = [_param("proxy")]
_TOXIC = [_param("proxy"), _param("toxic")]
_UPDATE_PROXY = {"200": _json(_ref("Proxy")), "400": _BAD, "404": _MISSING, "500": _BIND}
_UPDATE_TOXIC = {"200": _json(_ref("Toxic")), "400": _BAD, "404": _MISSING}

_PATHS: dict[str, Any] = {
    "/version": {"get": _op("version", "The Toxiproxy version it speaks", {
        "200": _json({"type": "object", "required": ["version"],
                      "properties": {"version": {"type": "string"}}}),
    })},
    "/reset": {"post": _op("reset", "Enable every proxy, remove every toxic", {"204": _NO_CONTENT})},
    "/metrics": {"get": _op("metrics", "Prometheus text", {"200": _text("the metrics")})},
    "/_debug/stats": {"get": _op("stats", "Connections, sockets and tasks (leak checks)", {
        "200": _json({"type": "object", "required": ["connections", "open_sockets", "tasks"]}),
    })},
    "/proxies": {
        "get": _op("listProxies", "Every proxy by name", {
            "200": _json({"type": "object", "additionalProperties": _ref("Proxy")}),
        }),
        "post": _op("createProxy", "Create a proxy and bind its listener", {
            "201": _json(_ref("Proxy"), "Created"), "400": _BAD,
            "409": _error("proxy already exists"), "500": _BIND,
        }, requestBody=_body("NewProxy")),
    },
    "/populate": {"post": _op("populate", "Create or replace many proxies", {
        "201": _json({"type": "object", "required": ["proxies"],
                      "properties": {"proxies": {"type": "array", "items": _ref("Proxy")}}}),
        "400": _BAD, "409": _error("proxy already exists"), "500": _BIND,
    }, requestBody={"required": True, "content": {"application/json": {"schema": _nullable(
        {"type": "array", "items": _ref("NewProxy")})}}})},
    "/proxies/{proxy}": {
        "get": _op("getProxy", "One proxy", {"200": _json(_ref("Proxy")), "404": _MISSING},
                   parameters=_PROXY),
        "post": _op("updateProxy", "Change listen, upstream or enabled", _UPDATE_PROXY,
                    parameters=_PROXY, requestBody=_body("ProxyChange")),
        "patch": _op("patchProxy", "The same as POST", _UPDATE_PROXY,
                     parameters=_PROXY, requestBody=_body("ProxyChange")),
        "delete": _op("deleteProxy", "Close it and its connections",
                      {"204": _NO_CONTENT, "404": _MISSING}, parameters=_PROXY),
    },
    "/proxies/{proxy}/toxics": {
        "get": _op("listToxics", "Upstream toxics first, then downstream",
                   {"200": _json({"type": "array", "items": _ref("Toxic")}), "404": _MISSING},
                   parameters=_PROXY),
        "post": _op("createToxic", "Add a toxic (200, as the real server answers)", {
            "200": _json(_ref("Toxic")), "400": _BAD, "404": _MISSING,
            "409": _error("toxic already exists"),
        }, parameters=_PROXY, requestBody=_body("NewToxic")),
    },
    "/proxies/{proxy}/toxics/{toxic}": {
        "get": _op("getToxic", "One toxic", {"200": _json(_ref("Toxic")), "404": _MISSING},
                   parameters=_TOXIC),
        "post": _op("updateToxic", "Merge attributes, set toxicity", _UPDATE_TOXIC,
                    parameters=_TOXIC, requestBody=_body("ToxicChange")),
        "patch": _op("patchToxic", "The same as POST", _UPDATE_TOXIC,
                     parameters=_TOXIC, requestBody=_body("ToxicChange")),
        "delete": _op("deleteToxic", "Remove it; what it held is flushed",
                      {"204": _NO_CONTENT, "404": _MISSING}, parameters=_TOXIC),
    },
}  # fmt: skip


def build_openapi(metrics: bool = True) -> dict[str, Any]:
    paths = {p: ops for p, ops in _PATHS.items() if metrics or p != "/metrics"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "fracas embedded Toxiproxy API", "version": VERSION},
        "paths": paths,
        "components": {"schemas": _SCHEMAS},
    }
