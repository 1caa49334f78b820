"""The schedule and replay parsers fuzzed with Hypothesis (issue 21): every input gets
a parsed schedule (or replay) or one validation error naming where, never a traceback.

Inputs are JSON built from the words the parsers know (keys, kinds, targets, paths) and
arbitrary values, so they reach deep into the validation instead of failing at the top;
replay files are also arbitrary bytes, since a user may point ``fracas replay`` at any
file. Bounded and derandomized: a few seconds each in the normal suite.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fracas.fakes.contract import BUILTIN_SERVICES, REQUIRED, routes
from fracas.harness.faults.base import fault_kinds
from fracas.harness.run.replay import REPLAY_VERSION, ReplayError, load_replay, parse_replay
from fracas.harness.run.schedule import (
    TARGETS_BY_FAMILY,
    Schedule,
    ScheduleError,
    loads_schedule,
    parse_schedule,
)

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

_WORDS = sorted(
    {
        *fault_kinds(), *BUILTIN_SERVICES, "orchestrator", *(r.path for _, r in routes()),
        "faults", "fault", "kind", "target", "params", "id", "at", "for", "when", "until",
        "service", "path", "method", "order_id", "phase", "nth", "before_commit",
        "after_commit", "latency_ms", "jitter_ms", "status", "ms", "shape", "may_not_fire",
        "POST", "GET", "ord-0001", "fracas_replay", "seed", "orders", "order", "intent",
        "schedule", "settle_seconds", "violations", "fault_backend", "adapter",
        "class", "lines", "sku", "qty", "unit_price_cents", "ok",
    }
)  # fmt: skip
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(_WORDS),
    st.text(max_size=8), st.sampled_from([0, 1, 2, 0.5, 3600, 3601, -1, REPLAY_VERSION]),
)  # fmt: skip
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(_WORDS), st.text(max_size=4)), inner, max_size=5),
    ),
    max_leaves=25,
)


def _required(kind: str) -> dict[str, Any]:
    """The params a kind cannot do without, at their documented example values."""
    spec = fault_kinds()[kind].params_spec
    return {
        p.name: p.example if p.example is not None else (p.choices or ("",))[0]
        for p in spec
        if p.default is REQUIRED
    }


def _fault() -> st.SearchStrategy[dict[str, Any]]:
    """A catalog fault on a target its family can act on, its required params given and
    maybe one more param of any value; or one with any piece of it wrong."""
    kinds = fault_kinds()
    extra = st.dictionaries(st.sampled_from(_WORDS), _SCALARS, max_size=1)
    right = st.sampled_from(sorted(kinds)).flatmap(
        lambda kind: st.fixed_dictionaries(
            {"kind": st.just(kind),
             "target": st.sampled_from(TARGETS_BY_FAMILY[kinds[kind].family]),
             "params": st.one_of(st.just(_required(kind)),
                                 extra.map(lambda more: {**_required(kind), **more}))},
            optional={"id": _SCALARS},
        )
    )  # fmt: skip
    return st.one_of(right, right, right, _JSON)


def _fault_entry() -> st.SearchStrategy[dict[str, Any]]:
    """An entry close to a real one, with any piece of it possibly wrong."""
    seconds = st.one_of(st.floats(0, 10), st.floats(0, 10), _SCALARS)
    trigger = st.one_of(
        st.fixed_dictionaries({"at": seconds}),
        st.fixed_dictionaries({"when": _JSON}),
        st.dictionaries(st.sampled_from(["at", "when"]), _JSON, max_size=2),
    )
    heal = st.one_of(
        st.just({}),
        st.fixed_dictionaries({"for": seconds}),
        st.dictionaries(st.sampled_from(["for", "until", "may_not_fire"]), _JSON, max_size=2),
    )
    return st.tuples(_fault(), trigger, heal).map(lambda t: {"fault": t[0], **t[1], **t[2]})


_SCHEDULES = st.one_of(
    _JSON,
    st.lists(_fault_entry(), max_size=3),
    st.fixed_dictionaries({"faults": st.lists(_fault_entry(), max_size=3)}),
)


def _one_error(exc: Exception) -> None:
    """One error, saying where: a non-empty first line (later lines are hints)."""
    message = str(exc)
    assert message.strip(), repr(exc)
    assert "Traceback" not in message


@SETTINGS
@given(data=_SCHEDULES)
def test_any_schedule_json_parses_or_gets_one_error(data: Any) -> None:
    try:
        schedule = parse_schedule(data)
    except ScheduleError as exc:
        _one_error(exc)
    else:
        assert isinstance(schedule, Schedule)
        # a parsed schedule says itself again the same way (what a replay file stores)
        assert parse_schedule(schedule.to_json()) == schedule


@SETTINGS
@given(text=st.one_of(st.text(max_size=60), _SCHEDULES.map(json.dumps)))
def test_any_schedule_text_parses_or_gets_one_error(text: str) -> None:
    try:
        loads_schedule(text)
    except ScheduleError as exc:
        _one_error(exc)


_LINE = st.fixed_dictionaries(
    {"sku": st.sampled_from(["SKU-0001", "SKU-0002"]), "qty": st.integers(1, 3),
     "unit_price_cents": st.integers(0, 5000)}
)  # fmt: skip
_ORDER_PLAN = st.fixed_dictionaries(
    {
        "order": st.fixed_dictionaries(
            {"order_id": st.sampled_from(["ord-0001", "ord-0002"]), "customer_id": st.just("cus-0001"),
             "currency": st.just("EUR"), "card_token": st.just("tok_ok"),
             "lines": st.lists(_LINE, min_size=1, max_size=2)}
        ),
        "intent": st.sampled_from(["ok", "declined", "bogus"]),
    }
)  # fmt: skip
_REPLAYS = st.one_of(
    _JSON,
    st.fixed_dictionaries(
        {
            "fracas_replay": st.just(REPLAY_VERSION),
            "seed": st.integers(0, 2**32),
            "orders": st.lists(st.one_of(_ORDER_PLAN, _ORDER_PLAN, _JSON), max_size=3),
        },
        optional={
            "schedule": _SCHEDULES,
            "settle_seconds": st.one_of(st.floats(0, 4000), _SCALARS),
            "violations": st.lists(st.lists(st.sampled_from(_WORDS), min_size=2, max_size=2)),
        },
    ),  # fmt: skip
    st.fixed_dictionaries(
        {"fracas_replay": st.just(REPLAY_VERSION), "seed": _SCALARS},
        optional={
            "orders": _JSON,
            "schedule": _SCHEDULES,
            "settle_seconds": _SCALARS,
            "violations": _JSON,
            "orchestrator": _JSON,
            "fault_backend": _SCALARS,
            "adapter": _JSON,
            "fracas_version": _SCALARS,
        },
    ),  # fmt: skip
)


@SETTINGS
@given(data=_REPLAYS)
def test_any_replay_json_parses_or_gets_one_error(data: Any) -> None:
    try:
        replay = parse_replay(data)
    except ReplayError as exc:
        _one_error(exc)
    else:
        assert math.isfinite(replay.settle_seconds) and replay.settle_seconds > 0


@settings(SETTINGS, max_examples=100)
@given(raw=st.one_of(st.binary(max_size=80), _REPLAYS.map(lambda d: json.dumps(d).encode())))
def test_any_replay_file_loads_or_gets_one_error(tmp_path_factory: Any, raw: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("replay")) / "run.json"
    path.write_bytes(raw)
    try:
        load_replay(path)
    except ReplayError as exc:
        _one_error(exc)
        assert str(path) in str(exc) or "replay" in str(exc)


def test_a_replay_files_bad_schedule_is_one_error_naming_the_file(tmp_path: Path) -> None:
    # Found by the fuzz above: "schedule": null said "schedule: expected an object ...",
    # naming neither the file nor where in it.
    path = tmp_path / "run.json"
    for schedule, where in ((None, "schedule: expected an object"),
                            ([{"fault": {"kind": "nope"}, "at": 0}], "schedule.faults[0]")):
        path.write_text(json.dumps({"fracas_replay": 1, "seed": 0, "orders": [],
                                    "schedule": schedule}))  # fmt: skip
        try:
            load_replay(path)
        except ReplayError as exc:
            assert str(exc).startswith(f"{path}.{where}"), str(exc)
        else:
            raise AssertionError("a replay file with a bad schedule loaded")


def test_a_replay_file_that_is_not_utf8_is_one_error(tmp_path: Path) -> None:
    # Found by the fuzz above: it was a UnicodeDecodeError traceback out of `fracas replay`.
    path = tmp_path / "run.json"
    path.write_bytes(b'{"fracas_replay": 1, "seed": \x80}')
    try:
        load_replay(path)
    except ReplayError as exc:
        assert str(exc) == f"{path}: not a replay file (not UTF-8 text: byte 29 is 0x80)"
    else:
        raise AssertionError("a file that is not UTF-8 loaded as a replay")
