"""The OpenAPI 3.0 document of the bundled orchestrator's API, served at ``/openapi.json``.

Users want the document, and the harness fuzzes the API with schemathesis against it
(tests/orchestrator/test_orch_schemathesis.py): a 5xx, or an answer the document does
not describe, is a finding. The order's limits are the ones ``validate.order`` enforces
(``validate.ORDER_LIMITS``) and the statuses are the store's, so the document and the
checks read the same facts.
"""

from __future__ import annotations

from typing import Any

from fracas.orchestrator.store import STATUSES
from fracas.orchestrator.validate import CURRENCY_PATTERN, ID_PATTERN, ORDER_LIMITS

_L = ORDER_LIMITS
_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_ID = {"type": "string", "pattern": ID_PATTERN}


def _json(ref: str, description: str = "OK") -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{ref}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _PROBLEM}},
    }


_ORDER_ID_PARAM = {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}
_NOT_FOUND = _problem("not-found: no such order")
_INVALID = _problem("invalid-request: the fields named in errors")
_MALFORMED = _problem("malformed-request: the body is not JSON")

_SCHEMAS: dict[str, Any] = {
    "Order": {
        "type": "object",
        "required": ["order_id", "customer_id", "currency", "card_token", "lines"],
        "properties": {
            "order_id": _ID,
            "customer_id": _ID,
            "currency": {"type": "string", "pattern": CURRENCY_PATTERN},
            "card_token": {"type": "string", "minLength": 1, "maxLength": _L["card_token"]},
            "lines": {
                "type": "array",
                "minItems": 1,
                "maxItems": _L["lines"],
                "items": {
                    "type": "object",
                    "required": ["sku", "qty", "unit_price_cents"],
                    "properties": {
                        "sku": {"type": "string", "minLength": 1},
                        "qty": {"type": "integer", "minimum": 1, "maximum": _L["qty"]},
                        "unit_price_cents": {
                            "type": "integer", "minimum": 0, "maximum": _L["unit_price_cents"],
                        },
                    },
                },
            },
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["order_id", "status"],
        "properties": {"order_id": {"type": "string"}, "status": {"enum": list(STATUSES)}},
    },
    "OrderView": {
        "type": "object",
        "required": ["order_id", "status"],
        "properties": {
            "order_id": {"type": "string"},
            "status": {"enum": list(STATUSES)},
            "reason": {"type": "string"},
            "payment_id": {"type": "string"},
            "reservation_id": {"type": "string"},
            "shipment_id": {"type": "string"},
        },
    },
    "OrderList": {
        "type": "object",
        "required": ["orders", "count"],
        "properties": {
            "orders": {"type": "array", "items": {"$ref": "#/components/schemas/OrderView"}},
            "count": {"type": "integer", "minimum": 0},
        },
    },
    "Events": {
        "type": "object",
        "required": ["order_id", "events"],
        "properties": {
            "order_id": {"type": "string"},
            "events": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Clock": {
        "type": "object",
        "required": ["now", "offset"],
        "properties": {
            "now": {"type": "number"},
            "offset": {"type": "number"},
            "test": {"type": "boolean"},
            "expired_reviews": {"type": "integer", "minimum": 0},
        },
    },
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "problem"],
                    "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
                },
            },
        },
    },
}  # fmt: skip


def _body(ref: str | dict[str, Any]) -> dict[str, Any]:
    schema = ref if isinstance(ref, dict) else {"$ref": f"#/components/schemas/{ref}"}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_PATHS: dict[str, Any] = {
    "/orders": {
        "post": {
            "operationId": "submitOrder",
            "summary": "Submit an order; idempotent on order_id",
            "requestBody": _body("Order"),
            "responses": {
                "200": _json("Accepted", "the same order again"),
                "202": _json("Accepted", "accepted; it survives a crash from now on"),
                "400": _MALFORMED,
                "409": _problem("order-conflict: another body under this order_id"),
                "422": _INVALID,
            },
        },
        "get": {
            "operationId": "listOrders",
            "summary": "Orders, optionally by status (find stuck ones)",
            "parameters": [
                _query("status", {"enum": list(STATUSES)}, "only orders in this status"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": _L["list"]}, "at most this many"),
            ],
            "responses": {"200": _json("OrderList"), "422": _INVALID},
        },
    },
    "/orders/{order_id}": {
        "get": {
            "operationId": "getOrder",
            "summary": "One order; ?wait=S long-polls until it is not pending or running",
            "parameters": [
                _ORDER_ID_PARAM,
                _query("wait", {"type": "number", "minimum": 0, "maximum": _L["wait"]}, "seconds"),
            ],
            "responses": {"200": _json("OrderView"), "404": _NOT_FOUND, "422": _INVALID},
        },
    },
    "/orders/{order_id}/events": {
        "get": {
            "operationId": "getOrderEvents",
            "summary": "The order's transition log",
            "parameters": [_ORDER_ID_PARAM],
            "responses": {"200": _json("Events"), "404": _NOT_FOUND},
        },
    },
    "/orders/{order_id}/review": {
        "post": {
            "operationId": "reviewOrder",
            "summary": "A person's decision on an order awaiting review",
            "parameters": [_ORDER_ID_PARAM],
            "requestBody": _body({
                "type": "object",
                "required": ["decision"],
                "properties": {"decision": {"enum": ["approve", "reject"]}},
            }),
            "responses": {
                "200": _json("OrderView"),
                "400": _MALFORMED,
                "404": _NOT_FOUND,
                "409": _problem("not-awaiting-review"),
                "422": _INVALID,
            },
        },
    },
    "/healthz": {
        "get": {
            "operationId": "health",
            "summary": "200 once it accepts orders",
            "responses": {"200": _json("Health"), "503": _problem("starting: not ready yet")},
        },
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus text exposition",
            "responses": {
                "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}},
            },
        },
    },
    "/_admin/clock": {
        "get": {
            "operationId": "getClock",
            "summary": "The business clock (test-only)",
            "responses": {"200": _json("Clock")},
        },
    },
    "/_admin/clock/advance": {
        "post": {
            "operationId": "advanceClock",
            "summary": "Jump the business clock forward (only with --test-clock)",
            "requestBody": _body({
                "type": "object",
                "required": ["seconds"],
                "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": _L["advance"]}},
            }),
            "responses": {
                "200": _json("Clock"),
                "400": _MALFORMED,
                "404": _problem("not-found: started without --test-clock"),
                "422": _INVALID,
            },
        },
    },
    "/_admin/outbox": {
        "get": {
            "operationId": "getOutbox",
            "summary": "Events not yet published (--events; 0 without the event side)",
            "responses": {"200": {"description": "OK", "content": {"application/json": {
                "schema": {"type": "object", "required": ["pending"],
                           "properties": {"pending": {"type": "integer", "minimum": 0}}},
            }}}},
        },
    },
    "/_admin/orders/{order_id}/resume": {
        "post": {
            "operationId": "resumeOrder",
            "summary": "A person retries a needs_attention order",
            "parameters": [_ORDER_ID_PARAM],
            "responses": {
                "200": _json("OrderView"),
                "404": _NOT_FOUND,
                "409": _problem("not-needs-attention"),
            },
        },
    },
}  # fmt: skip


def build_openapi() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "fracas bundled saga orchestrator", "version": "1.0.0"},
        "paths": _PATHS,
        "components": {"schemas": _SCHEMAS},
    }
