"""Every plug-in point registers the same way: one module per unit in its package, found by
importing every module there; the unit registers itself with its package's decorator
(``@register``; a checker rule's is ``@rule("name")``). These tests hold the rule "a new
unit touches one file": each package's modules and its registry are the same set, an
HTTP fault action's file is its fault kind too, and a unit defined anywhere else (here,
in a test) is usable by name without editing a list."""

from __future__ import annotations

import pkgutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import fracas.harness.backends as backends_pkg
import fracas.harness.checkers.rules as rules_pkg
import fracas.harness.faults.kinds as kinds_pkg
import fracas.harness.toxiproxy.toxics as toxics_pkg
from fracas.harness.backends import REGISTRY as BACKENDS
from fracas.harness.backends import make_backend
from fracas.harness.backends.base import BackendOptions, FaultBackend, register
from fracas.harness.checkers import all_rules
from fracas.harness.faults import fault_kinds
from fracas.harness.faults.action_kinds import ActionFault
from fracas.harness.faults.base import _REGISTRY as REGISTERED_KINDS
from fracas.harness.faults.http import MATCH_PARAMS
from fracas.harness.toxiproxy.toxics import REGISTRY as TOXICS


def _units(pkg: ModuleType) -> set[str]:
    return {m.name for m in pkgutil.iter_modules(pkg.__path__)
            if not m.name.startswith("_") and m.name != "base"}  # fmt: skip


def _defined_in(objs: dict[str, object], attr: str) -> dict[str, str]:
    return {name: getattr(o, attr).rsplit(".", 1)[-1] for name, o in objs.items()}


def test_every_backend_module_registers_the_backend_it_is_named_after() -> None:
    assert _defined_in(BACKENDS, "__module__") == {n: n for n in _units(backends_pkg)}  # type: ignore[arg-type]


def test_every_toxic_and_rule_module_registers_a_unit() -> None:
    toxics = set(_defined_in(TOXICS, "__module__").values())  # type: ignore[arg-type]
    assert toxics == _units(toxics_pkg)
    rules = {r.check.__module__.rsplit(".", 1)[-1] for r in all_rules().values()}
    assert _units(rules_pkg) <= rules


def test_every_fault_kind_module_registers_the_kind_it_is_named_after() -> None:
    assert _defined_in(REGISTERED_KINDS, "__module__") == {n: n for n in _units(kinds_pkg)}  # type: ignore[arg-type]
    assert all(k.__module__.startswith("fracas.harness.faults.kinds.")
               for k in REGISTERED_KINDS.values())  # fmt: skip


@pytest.fixture
def test_backend() -> Iterator[type[FaultBackend]]:
    @register
    class InTestBackend(FaultBackend):
        name = "in-test"

        @classmethod
        def configured(cls, options: BackendOptions) -> FaultBackend:
            backend = cls()
            backend.options = options  # type: ignore[attr-defined]
            return backend

        def _start(self) -> str:
            return "http://127.0.0.1:1"

        def _stop(self) -> None:
            pass

    try:
        yield InTestBackend
    finally:
        del BACKENDS["in-test"]


def test_a_backend_defined_in_one_file_is_chosen_by_name(
    test_backend: type[FaultBackend], tmp_path: Path
) -> None:
    made = make_backend(env={"FRACAS_FAULT_BACKEND": "in-test"}, seed=3, log_dir=tmp_path)
    assert isinstance(made, test_backend)
    assert made.options.seed == 3 and made.options.log_dir == tmp_path  # type: ignore[attr-defined]
    from fracas.harness.backends import backend_names

    assert backend_names()[0] == "embedded" and "in-test" in backend_names()


def test_every_http_fault_action_module_registers_the_action_it_is_named_after() -> None:
    """The contract lists the actions from the file names; the fakes' registry holds one
    action per file, so a new action is one file in fakes/actions/."""
    import fracas.fakes.actions as actions_pkg
    from fracas.fakes import contract
    from fracas.fakes.actions import REGISTRY as ACTIONS

    assert (
        tuple(sorted(ACTIONS)) == contract.HTTP_FAULT_ACTIONS == tuple(sorted(_units(actions_pkg)))
    )
    assert contract.http_fault_actions() == contract.HTTP_FAULT_ACTIONS
    assert all(type(a).__module__ == f"fracas.fakes.actions.{k}" for k, a in ACTIONS.items())


def test_an_http_fault_action_is_one_file_its_fault_kind_is_built_from_it() -> None:
    """No action has a kind file: every action's kind is the one built from the action,
    defined (for messages) in the action's own module, its params the declared settings
    then the match params."""
    from fracas.fakes import contract
    from fracas.fakes.actions import REGISTRY as ACTIONS

    built = {n: k for n, k in fault_kinds().items() if issubclass(k, ActionFault)}
    assert set(built) == set(ACTIONS) == set(contract.HTTP_FAULT_ACTIONS)
    assert not set(ACTIONS) & set(REGISTERED_KINDS)  # no kind file restates an action
    for name, kind in built.items():
        action = ACTIONS[name]
        assert kind.__module__ == type(action).__module__ == f"fracas.fakes.actions.{name}"
        assert kind.family == "http" and kind.summary == action.summary != ""
        own = [p.name for p in kind.params_spec][: len(action.settings)]
        assert own == [s.name for s in action.settings]
        assert kind.params_spec[len(action.settings):] == MATCH_PARAMS


def test_a_kind_file_named_after_an_action_overrides_the_built_kind() -> None:
    from fracas.harness.faults.base import register as register_kind

    @register_kind
    class Drop(ActionFault):
        kind = "drop"
        action_kind = "drop"
        summary = "a drop with harness-side behaviour"
        params_spec = MATCH_PARAMS

    try:
        assert fault_kinds()["drop"] is Drop
    finally:
        del REGISTERED_KINDS["drop"]
    assert fault_kinds()["drop"] is not Drop and fault_kinds()["drop"].__module__.endswith(
        "actions.drop"
    )
