"""The catalog as data: every kind round-trips JSON exactly and rejects bad JSON with a
message naming the field, what was expected and what to do."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fracas.fakes.contract import Setting
from fracas.harness.faults import (
    FAMILIES,
    Fault,
    FaultContext,
    FaultValidationError,
    Param,
    fault_class,
    fault_kinds,
    from_json,
    register,
)
from fracas.harness.faults import base as faults_base

KINDS = fault_kinds()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "faults.md"

EXPECTED_KINDS = {
    "network": {
        "latency",
        "jitter",
        "bandwidth",
        "down",
        "timeout",
        "reset_peer",
        "slicer",
        "limit_data",
        "slow_close",
    },
    "http": {"status", "drop", "reset", "delay", "malformed", "hold"},
    "process": {"kill", "pause", "restart"},
}


def value_strategy(p: Param) -> st.SearchStrategy[Any]:
    lo = p.minimum
    hi = p.maximum
    if p.type == "bool":
        s: st.SearchStrategy[Any] = st.booleans()
    elif p.type == "str":
        s = st.sampled_from(p.choices) if p.choices else st.text(min_size=1, max_size=12)
    elif p.type == "int":
        s = st.integers(int(lo) if lo is not None else -(10**6), int(hi) if hi else 10**6)
    elif p.type == "float":
        s = st.floats(
            lo if lo is not None else -1e6, hi if hi is not None else 1e6, allow_nan=False
        )
    else:
        s = st.lists(st.integers(int(lo or 1), 10**6), min_size=1, max_size=4)
    return s


@st.composite
def params_for(draw: st.DrawFn, cls: type[Fault]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for p in cls.params_spec:
        if p.required or draw(st.booleans()):
            params[p.name] = draw(value_strategy(p))
    return params


def valid_fault_json(cls: type[Fault]) -> st.SearchStrategy[dict[str, Any]]:
    def build(params: dict[str, Any], target: str, fid: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": cls.kind, "target": target, "params": params}
        if fid is not None:
            data["id"] = fid
        return data

    def valid(data: dict[str, Any]) -> bool:
        try:
            from_json(data)
        except FaultValidationError:
            return False  # only cross-param rules (slicer) reject a per-param-valid draw
        return True

    return st.builds(
        build,
        params_for(cls),
        st.text(min_size=1, max_size=10),
        st.none() | st.text(min_size=1, max_size=10),
    ).filter(valid)


any_valid_fault = st.sampled_from(sorted(KINDS)).flatmap(lambda k: valid_fault_json(KINDS[k]))


def test_every_kind_is_registered_in_its_family() -> None:
    by_family = {f: {k for k, c in KINDS.items() if c.family == f} for f in FAMILIES}
    for family, kinds in EXPECTED_KINDS.items():
        assert kinds <= by_family[family], family


@settings(max_examples=300, deadline=None)
@given(any_valid_fault)
def test_any_valid_fault_survives_json_round_trip(data: dict[str, Any]) -> None:
    fault = from_json(data)
    again = from_json(fault.to_json())
    assert again == fault and again.id == fault.id and type(again) is type(fault)
    assert from_json(fault.dumps()) == fault
    assert from_json(json.loads(json.dumps(fault.to_json()))).to_json() == fault.to_json()
    # What was given survives as given (defaults are added, nothing is changed).
    for key, value in data["params"].items():
        if value is not None:
            assert fault.params[key] == value


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_defaults_are_written_out_and_ids_are_stable(kind: str) -> None:
    cls = KINDS[kind]
    params = {
        p.name: p.example if p.example is not None else (p.choices or [1])[0]
        for p in cls.params_spec
        if p.required
    }
    fault = cls("payment", params)
    out = fault.to_json()
    assert out["kind"] == kind and out["target"] == "payment"
    for p in cls.params_spec:
        if p.default is not None and not p.required:
            assert out["params"][p.name] == p.default
    assert fault.id == cls("payment", params).id
    assert fault.id.startswith(f"fracas-{kind}-payment-")
    assert cls("payment", params, id="mine").id == "mine"


# -- validation messages -------------------------------------------------------------------


def _error(data: object) -> FaultValidationError:
    with pytest.raises(FaultValidationError) as info:
        from_json(data)
    return info.value


def _minimal(kind: str) -> dict[str, Any]:
    cls = KINDS[kind]
    return {
        p.name: p.example if p.example is not None else (p.choices or [1])[0]
        for p in cls.params_spec
        if p.required
    }


def _cases() -> Iterator[tuple[str, str]]:
    for kind, cls in sorted(KINDS.items()):
        for p in cls.params_spec:
            yield kind, p.name


@pytest.mark.parametrize(("kind", "param"), list(_cases()))
def test_wrong_type_names_the_param_and_says_what_to_do(kind: str, param: str) -> None:
    params = {**_minimal(kind), param: {"not": "a value"}}
    err = _error({"kind": kind, "target": "payment", "params": params})
    assert err.field == f"params.{param}"
    assert f"Set params.{param} to" in str(err)
    assert str(err).startswith(f"params.{param}: expected ")


def _breakable(p: Param) -> Any:
    """A value just outside what the param allows, or None when any value of its type is fine."""
    if p.choices is not None:
        return "no-such-choice"
    if p.minimum is not None and p.type in ("int", "float"):
        return p.minimum - 1
    if p.maximum is not None:
        return p.maximum + 1
    if p.type == "int_list":
        return [0]
    if p.type == "str":
        return ""
    return None


@pytest.mark.parametrize(
    ("kind", "param"),
    [
        (k, n)
        for k, n in _cases()
        if _breakable(next(p for p in KINDS[k].params_spec if p.name == n)) is not None
    ],
)
def test_out_of_range_or_choice_is_rejected(kind: str, param: str) -> None:
    p = next(p for p in KINDS[kind].params_spec if p.name == param)
    bad = _breakable(p)
    err = _error({"kind": kind, "target": "t", "params": {**_minimal(kind), param: bad}})
    assert err.field == f"params.{param}"


@pytest.mark.parametrize(
    "kind", sorted(k for k, c in KINDS.items() if any(p.required for p in c.params_spec))
)
def test_missing_required_param(kind: str) -> None:
    required = next(p.name for p in KINDS[kind].params_spec if p.required)
    params = {k: v for k, v in _minimal(kind).items() if k != required}
    err = _error({"kind": kind, "target": "t", "params": params})
    assert err.field == f"params.{required}"
    assert "got nothing (the field is missing)" in str(err)


def test_unknown_kind_suggests_the_closest() -> None:
    err = _error({"kind": "latncy", "target": "payment"})
    assert err.field == "kind" and 'Did you mean "latency"?' in str(err)
    assert _error({"target": "payment"}).field == "kind"


def test_unknown_param_suggests_the_closest() -> None:
    err = _error({"kind": "latency", "target": "p", "params": {"latency": 5}})
    assert err.field == "params.latency"
    assert 'Did you mean "latency_ms"?' in str(err)


def test_choice_typo_suggests_the_closest() -> None:
    err = _error({"kind": "malformed", "target": "p", "params": {"shape": "htm"}})
    assert 'Did you mean "html"?' in str(err)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "kill"}, "target"),
        ({"kind": "kill", "target": ""}, "target"),
        ({"kind": "kill", "target": 3}, "target"),
        ({"kind": "kill", "target": "p", "id": ""}, "id"),
        ({"kind": "kill", "target": "p", "params": [1]}, "params"),
        ({"kind": "kill", "target": "p", "when": 3}, "when"),
        ([1, 2], "(document)"),
        ("{not json", "(document)"),
    ],
)
def test_document_level_errors(data: object, field: str) -> None:
    assert _error(data).field == field


def test_bool_is_not_a_number_and_fractions_are_not_whole() -> None:
    assert _error({"kind": "latency", "target": "p", "params": {"latency_ms": True}}).field == (
        "params.latency_ms"
    )
    assert _error({"kind": "latency", "target": "p", "params": {"latency_ms": 1.5}}).field == (
        "params.latency_ms"
    )
    assert (
        from_json({"kind": "latency", "target": "p", "params": {"latency_ms": 2.0}}).params[
            "latency_ms"
        ]
        == 2
    )
    assert (
        _error(
            {"kind": "latency", "target": "p", "params": {"latency_ms": 1, "toxicity": math.nan}}
        ).field
        == "params.toxicity"
    )


def test_slicer_cross_check() -> None:
    err = _error(
        {"kind": "slicer", "target": "p", "params": {"average_size": 4, "size_variation": 4}}
    )
    assert err.field == "params.size_variation" and "below average_size (4)" in str(err)


def test_http_rule_shape_matches_the_contract() -> None:
    fault = from_json(
        {
            "kind": "drop",
            "target": "payment",
            "id": "lost-capture",
            "params": {
                "method": "POST",
                "path": "/payments",
                "nth": [1],
                "phase": "after_commit",
                "times": 1,
            },
        }
    )
    assert fault.rule() == {  # type: ignore[attr-defined]
        "id": "lost-capture",
        "match": {"method": "POST", "path": "/payments", "nth": [1]},
        "phase": "after_commit",
        "action": {"kind": "drop"},
        "times": 1,
    }
    status = from_json(
        {"kind": "status", "target": "payment", "params": {"status": 503, "retry_after": 2}}
    )
    assert status.rule()["action"] == {  # type: ignore[attr-defined]
        "kind": "status",
        "status": 503,
        "retry_after": 2.0,
    }


def test_toxic_attributes_use_the_servers_units() -> None:
    def attrs(data: dict[str, Any]) -> Any:
        return from_json(data).attributes()  # type: ignore[attr-defined]

    assert attrs(
        {
            "kind": "slicer",
            "target": "p",
            "params": {"average_size": 8, "size_variation": 2, "delay_us": 10},
        }
    ) == {"average_size": 8, "size_variation": 2, "delay": 10}
    assert attrs({"kind": "bandwidth", "target": "p", "params": {"rate_kbps": 3}}) == {"rate": 3}
    assert attrs({"kind": "jitter", "target": "p", "params": {"jitter_ms": 9}}) == {
        "latency": 0,
        "jitter": 9,
    }


# -- the registry ----------------------------------------------------------------------------


def test_a_new_kind_registers_itself_and_a_duplicate_is_refused() -> None:
    class Unregistered(Fault):
        kind = "test_unregistered"
        family = "network"

    assert "test_unregistered" not in fault_kinds()  # subclassing alone registers nothing

    @register
    class Noop(Fault):
        kind = "test_noop"
        family = "network"
        params_spec = (Param("n", "int", "a number", default=1, minimum=0),)

        def apply(self, ctx: FaultContext) -> None:
            pass

        def heal(self, ctx: FaultContext) -> None:
            pass

    try:
        assert fault_class("test_noop") is Noop
        assert from_json({"kind": "test_noop", "target": "x"}).params == {"n": 1}
        with pytest.raises(TypeError, match="defined twice"):
            register(type("Other", (Noop,), {"kind": "test_noop", "__qualname__": "Other"}))
    finally:
        faults_base._REGISTRY.pop("test_noop", None)


def test_docs_describe_every_kind() -> None:
    text = DOCS.read_text()
    for kind in KINDS:
        assert f"`{kind}`" in text, f"docs/faults.md does not describe {kind}"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def mutated_fault(draw: st.DrawFn) -> Any:
    """A valid fault with one field (top-level or param) replaced by any JSON value."""
    kind = draw(st.sampled_from(sorted(KINDS)))
    data = draw(valid_fault_json(KINDS[kind]))
    names = [p.name for p in KINDS[kind].params_spec]
    where = draw(st.sampled_from(["kind", "target", "id", "params", *names]))
    value = draw(json_values)
    if where in names:
        data["params"][where] = value
    else:
        data[where] = value
    return data


@settings(max_examples=300, deadline=None)
@given(mutated_fault())
def test_any_json_either_parses_or_fails_with_a_validation_error(data: Any) -> None:
    try:
        fault = from_json(data)
    except FaultValidationError as exc:
        assert exc.field and exc.hint and str(exc).startswith(exc.field + ": expected ")
    else:
        assert from_json(fault.to_json()) == fault


def test_a_param_is_an_action_setting_with_the_catalogs_checks() -> None:
    """Param adds no field to Setting: an action's setting becomes a kind's param as is."""
    setting = Setting("cups", "int", "how many cups", default=1, minimum=1, maximum=12)
    param = faults_base.Param.of(setting)
    assert isinstance(param, Setting)
    assert dataclasses.fields(param) == dataclasses.fields(Setting)
    assert dataclasses.asdict(param) == dataclasses.asdict(setting)
    assert param.check(3, "params.cups") == 3
    with pytest.raises(FaultValidationError, match="from 1 to 12"):
        param.check(13, "params.cups")
