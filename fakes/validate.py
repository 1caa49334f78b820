"""A small JSON Schema subset validator, so one schema both checks requests and goes
into ``/openapi.json`` unchanged: the document and the behaviour cannot drift apart.

Supported keywords: ``type`` (object, array, string, integer, boolean), ``properties``,
``required``, ``items``, ``minItems``, ``maxItems``, ``minLength``, ``maxLength``,
``pattern``, ``enum``, ``minimum``, ``maximum``. Unknown properties are allowed (the
contract says extra fields are ignored).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Schema = dict[str, Any]


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _is_text(value: str) -> bool:
    """JSON may carry lone surrogates; they cannot be stored, so they are invalid input."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(value: Any, schema: Schema, where: str = "") -> list[tuple[str, str]]:
    """Every (field path, problem) in `value` against `schema`; empty when valid."""
    errors: list[tuple[str, str]] = []
    _check(value, schema, where, errors)
    return errors


def _check(value: Any, schema: Schema, where: str, errors: list[tuple[str, str]]) -> None:
    name = where or "body"
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            errors.append((name, "expected an object"))
            return
        for field in schema.get("required", ()):
            if field not in value:
                errors.append((_join(where, field), "is required"))
        for field, sub in schema.get("properties", {}).items():
            if field in value:
                _check(value[field], sub, _join(where, field), errors)
        return
    if kind == "array":
        if not isinstance(value, list):
            errors.append((name, "expected an array"))
            return
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append((name, f"expected at least {schema['minItems']} items"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append((name, f"expected at most {schema['maxItems']} items"))
        items = schema.get("items")
        if items is not None:
            for i, item in enumerate(value):
                _check(item, items, f"{name}[{i}]", errors)
        return
    if kind == "string":
        if not isinstance(value, str) or not _is_text(value):
            errors.append((name, "expected a string"))
            return
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append((name, f"expected at least {schema['minLength']} characters"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append((name, f"expected at most {schema['maxLength']} characters"))
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            errors.append((name, f"expected to match {schema['pattern']}"))
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append((name, "expected an integer"))
            return
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((name, f"expected at least {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((name, f"expected at most {schema['maximum']}"))
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append((name, "expected true or false"))
            return
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(c) for c in schema["enum"])
        errors.append((name, f"expected one of {choices}"))


def _join(where: str, field: str) -> str:
    return f"{where}.{field}" if where else field


# -- building blocks shared by the services' schemas ----------------------------------
MAX_CENTS = 10**11
MAX_QTY = 10_000


def text(max_length: int = 200, **extra: Any) -> Schema:
    return {"type": "string", "minLength": 1, "maxLength": max_length, **extra}


def integer(minimum: int, maximum: int) -> Schema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def obj(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


LINE = obj(["sku", "qty"], sku=text(64), qty=integer(1, MAX_QTY))
LINES = {"type": "array", "minItems": 1, "maxItems": 50, "items": LINE}
ADDRESS = obj(
    ["line1", "city", "postcode", "country"],
    line1=text(),
    city=text(),
    postcode=text(32),
    country={"type": "string", "pattern": "^[A-Z]{2}$"},
)
