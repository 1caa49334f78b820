"""The shape every fault shares: a kind, a target, checked params, a JSON form, apply and heal.

A fault kind is one small class that declares its params; this module does the rest
(validation with messages that say what to do next, JSON in and out, the registry), so a
kind's file holds only what is particular to it. A kind registers itself with ``@register``
(as toxics, backends and the fakes' actions do); the package imports every module in
``fracas.harness.faults.kinds``, so adding a kind is adding one file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

from fracas.fakes.contract import REQUIRED as REQUIRED  # one sentinel for settings and params
from fracas.fakes.contract import Setting
from fracas.harness.faults.context import FaultContext, FaultError

FAMILIES: tuple[str, ...] = ("network", "http", "process", "client", "message")


class FaultValidationError(ValueError):
    """A fault's JSON is wrong; names the field, what was expected, and what to do."""

    def __init__(self, field: str, expected: str, got: object, hint: str) -> None:
        self.field = field
        self.expected = expected
        self.got = got
        self.hint = hint
        super().__init__(f"{field}: expected {expected}, got {_show(got)}. {hint}")


def _show(value: object) -> str:
    if value is _MISSING:
        return "nothing (the field is missing)"
    text = json.dumps(value) if _jsonable(value) else repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


_MISSING: Any = object()


@dataclass(frozen=True)
class Param(Setting):
    """One parameter of a fault kind: a ``Setting`` (JSON type, range, default, meaning,
    declared there once) that the catalog checks values against and explains in hints."""

    @classmethod
    def of(cls, setting: Setting) -> Param:
        """The param an HTTP fault action's declared setting is, in the fault catalog: the
        same fields, whatever they are."""
        if isinstance(setting, Param):
            return setting
        return cls(**{f.name: getattr(setting, f.name) for f in fields(setting)})

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def expected(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(json.dumps(c) for c in self.choices)
        what = {
            "int": "a whole number",
            "float": "a number",
            "str": "a non-empty string",
            "bool": "true or false",
            "int_list": "a non-empty list of whole numbers",
        }[self.type]
        if self.type == "int_list" and self.minimum is not None:
            what += f", each >= {self.minimum:g}"
        elif self.minimum is not None and self.maximum is not None:
            what += f" from {self.minimum:g} to {self.maximum:g}"
        elif self.minimum is not None:
            what += f" >= {self.minimum:g}"
        elif self.maximum is not None:
            what += f" <= {self.maximum:g}"
        if not self.required and self.default is None:
            what += " (or leave it out)"
        return what

    def hint(self, field: str) -> str:
        example = self.example
        if example is None:
            example = self.choices[0] if self.choices else self.default
        text = f"Set {field} to {self.expected()}"
        if example is not None and example is not REQUIRED:
            text += f", e.g. {json.dumps(example)}"
        return f"{text}: {self.doc}."

    def check(self, value: Any, field: str) -> Any:
        """The canonical value (floats as float), or a FaultValidationError."""

        def bad() -> FaultValidationError:
            return FaultValidationError(field, self.expected(), value, self.hint(field))

        if value is _MISSING:
            if self.required:
                raise bad()
            return self.default
        if value is None and not self.required and self.default is None:
            return None
        if self.type == "bool":
            if not isinstance(value, bool):
                raise bad()
            return value
        if self.type == "str":
            if not isinstance(value, str) or not value:
                raise bad()
            if self.choices is not None and value not in self.choices:
                close = difflib.get_close_matches(value, self.choices, n=1)
                hint = f"Did you mean {json.dumps(close[0])}? " if close else ""
                raise FaultValidationError(field, self.expected(), value, hint + self.hint(field))
            return value
        if self.type == "int_list":
            if not isinstance(value, list) or not value:
                raise bad()
            for item in value:
                if isinstance(item, bool) or not isinstance(item, int):
                    raise bad()
                if self.minimum is not None and item < self.minimum:
                    raise bad()
            return list(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad()
        if self.type == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad()
                value = int(value)
        else:
            if not math.isfinite(value):
                raise bad()
            value = float(value)
        if self.minimum is not None and value < self.minimum:
            raise bad()
        if self.maximum is not None and value > self.maximum:
            raise bad()
        return value


_REGISTRY: dict[str, type[Fault]] = {}
_F = TypeVar("_F", bound="type[Fault]")


def register(cls: _F) -> _F:
    """Class decorator: ``cls`` is the fault kind ``cls.kind`` from now on."""
    if cls.family not in FAMILIES:
        raise TypeError(f"{cls.__name__}.family must be one of {FAMILIES}")
    existing = _REGISTRY.get(cls.kind)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise TypeError(
            f"fault kind {cls.kind!r} is defined twice: {existing.__module__}."
            f"{existing.__qualname__} and {cls.__module__}.{cls.__qualname__}"
        )
    names = [p.name for p in cls.params_spec]
    if len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__}: duplicate param names in {names}")
    _REGISTRY[cls.kind] = cls
    return cls


#: Kinds made when the catalog is read rather than registered: ``action_kinds`` adds one
#: for the fakes' HTTP fault actions (it builds on this module, so it adds itself here).
_MADE: list[Callable[[], Mapping[str, type[Fault]]]] = []


def add_made_kinds(source: Callable[[], Mapping[str, type[Fault]]]) -> None:
    """Read ``source()`` for kinds each time the catalog is read; a registered kind of the
    same name wins."""
    _MADE.append(source)


def catalog_size() -> int:
    """How many kinds the catalog holds. It only grows (a kind is never unregistered),
    so what is worked out from it holds while this stays the same: the search reads
    the catalog's families some hundred thousand times per search."""
    return len(_REGISTRY) + sum(len(source()) for source in _MADE)


def fault_kinds() -> dict[str, type[Fault]]:
    """Every kind, by name: the registered ones (import ``fracas.harness.faults`` to fill
    it), and one for each HTTP fault action of the fakes that none of them claims."""
    made = {name: cls for source in _MADE for name, cls in source().items()}
    return dict(sorted({**made, **_REGISTRY}.items()))


def fault_class(kind: object) -> type[Fault]:
    kinds = fault_kinds()
    if not isinstance(kind, str) or kind not in kinds:
        known = sorted(kinds)
        close = difflib.get_close_matches(kind, known, n=1) if isinstance(kind, str) else []
        hint = f"Did you mean {json.dumps(close[0])}? " if close else ""
        raise FaultValidationError(
            "kind",
            "one of " + ", ".join(known),
            kind,
            hint + "Set kind to a fault kind from docs/faults.md.",
        )
    return kinds[kind]


_TOP_LEVEL = ("kind", "target", "params", "id")


class Fault(ABC):
    """One fault of one kind on one target.

    ``id`` names what the fault puts into the world (toxic names, rule ids): given, or
    derived from kind, target and params, so applying the same fault twice collides
    loudly instead of stacking, and ``heal`` finds exactly its own pieces again.
    """

    kind: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str] = ""
    params_spec: ClassVar[tuple[Param, ...]] = ()
    #: Applied, it waits for one moment on the wire and acts then (``fired``): its
    #: ``for`` counts from that moment, not from its apply (run/nemesis.py).
    lies_in_wait: ClassVar[bool] = False
    #: It acts on everything in flight at its target (a kill, a pause, a cut link), not
    #: only on the message or request it is aimed at: with more than one order, which
    #: of them it lands on is timing (search/steady.py looks for a witness without it).
    spills: ClassVar[bool] = False
    #: It kills its target process (heal, or a supervisor, starts it again): whatever
    #: the target held in memory, a review timer say, starts over (run/runner.py).
    kills: ClassVar[bool] = False

    def fired(self, ctx: Any) -> int:
        """How often a fault that ``lies_in_wait`` has acted so far."""
        return 1

    def __init__(
        self, target: str, params: Mapping[str, Any] | None = None, id: str | None = None
    ) -> None:
        if not isinstance(target, str) or not target:
            raise FaultValidationError(
                "target",
                "a non-empty string",
                target,
                'Set target to the name of a service or process, e.g. "payment".',
            )
        if id is not None and (not isinstance(id, str) or not id):
            raise FaultValidationError(
                "id",
                "a non-empty string (or leave it out)",
                id,
                "Leave id out to derive one, or give a name unique among active faults.",
            )
        self.target = target
        self._id = id
        self.params = self._check_params(params if params is not None else {})

    @classmethod
    def _check_params(cls, params: object) -> dict[str, Any]:
        if not isinstance(params, Mapping):
            raise FaultValidationError(
                "params",
                "an object",
                params,
                f"Set params to an object with {cls._param_names()}.",
            )
        unknown = sorted(set(params) - {p.name for p in cls.params_spec})
        if unknown:
            close = difflib.get_close_matches(
                str(unknown[0]), [p.name for p in cls.params_spec], n=1
            )
            hint = f"Did you mean {json.dumps(close[0])}? " if close else ""
            raise FaultValidationError(
                f"params.{unknown[0]}",
                f"only the params of kind {json.dumps(cls.kind)} ({cls._param_names()})",
                params[unknown[0]],
                hint + f"Rename or remove params.{unknown[0]}.",
            )
        checked = {
            p.name: p.check(params.get(p.name, _MISSING), f"params.{p.name}")
            for p in cls.params_spec
        }
        cls.check_together(checked)
        return checked

    @classmethod
    def _param_names(cls) -> str:
        if not cls.params_spec:
            return "no params"
        return ", ".join(p.name + ("" if p.required else "?") for p in cls.params_spec)

    @classmethod
    def check_together(cls, params: Mapping[str, Any]) -> None:
        """Override for rules that span params; raise FaultValidationError."""
        return None

    # -- identity and JSON -----------------------------------------------------------
    @property
    def id(self) -> str:
        if self._id is not None:
            return self._id
        digest = hashlib.sha1(
            json.dumps(self.params, sort_keys=True).encode(), usedforsecurity=False
        ).hexdigest()[:8]
        return f"fracas-{self.kind}-{self.target}-{digest}"

    def to_json(self) -> dict[str, Any]:
        """The JSON form; absent optional params are left out, defaults written out."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "target": self.target,
            "params": {k: v for k, v in self.params.items() if v is not None},
        }
        if self._id is not None:
            data["id"] = self._id
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)

    @staticmethod
    def from_json(data: object) -> Fault:
        """A fault from its JSON form (a dict, or a JSON text), checked field by field."""
        if isinstance(data, bytes):
            data = data.decode(errors="replace")
        if isinstance(data, str):
            text = data
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise FaultValidationError(
                    "(document)",
                    "JSON text",
                    text,
                    f"Fix the JSON syntax ({exc}).",
                ) from None
        if not isinstance(data, Mapping):
            raise FaultValidationError(
                "(document)",
                'an object like {"kind": ..., "target": ..., "params": {...}}',
                data,
                "Wrap the fault in a JSON object.",
            )
        unknown = sorted(set(data) - set(_TOP_LEVEL))
        if unknown:
            raise FaultValidationError(
                unknown[0],
                "only " + ", ".join(_TOP_LEVEL),
                data[unknown[0]],
                f"Remove {unknown[0]}; kind-specific settings go under params.",
            )
        cls = fault_class(data.get("kind", _MISSING))
        return cls(
            data.get("target", _MISSING),  # checked in __init__
            data.get("params", {}),
            data.get("id"),
        )

    @staticmethod
    def loads(text: str | bytes) -> Fault:
        return Fault.from_json(text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fault):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.dumps())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dumps()})"

    # -- effect ----------------------------------------------------------------------
    @abstractmethod
    def apply(self, ctx: FaultContext) -> None:
        """Put the fault into the world."""

    @abstractmethod
    def heal(self, ctx: FaultContext) -> None:
        """Take it out again: idempotent, and fine if the world already moved on."""


def targets_text(ctx: FaultContext, has: str) -> str:
    names = [t for t in ctx.targets() if _has(ctx, t, has)]
    return ", ".join(names) if names else "none"


def _has(ctx: FaultContext, target: str, has: str) -> bool:
    if has == "proxy":
        return ctx.proxy_name(target) is not None
    if has == "admin":
        return ctx.admin_url(target) is not None
    return ctx.process(target) is not None


def missing_target(fault: Fault, ctx: FaultContext, has: str, what: str) -> FaultError:
    return FaultError(
        f"{fault.kind} fault on {fault.target!r}: that target has no {what}; "
        f"targets with one: {targets_text(ctx, has)}"
    )
