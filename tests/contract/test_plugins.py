"""Every plug-in point registers the same way: one module per unit in its package, found by
importing every module there; the unit registers itself (a decorator, or for fault kinds
subclassing ``Fault``). These tests hold the rule "a new unit touches one file": each
package's modules and its registry are the same set, and a unit defined anywhere else
(here, in a test) is usable by name without editing a list."""

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
from fracas.harness.toxiproxy.toxics import REGISTRY as TOXICS


def _units(pkg: ModuleType) -> set[str]:
    return {m.name for m in pkgutil.iter_modules(pkg.__path__)
            if not m.name.startswith("_") and m.name != "base"}  # fmt: skip


def _defined_in(objs: dict[str, object], attr: str) -> dict[str, str]:
    return {name: getattr(o, attr).rsplit(".", 1)[-1] for name, o in objs.items()}


def test_every_backend_module_registers_the_backend_it_is_named_after() -> None:
    assert _defined_in(BACKENDS, "__module__") == {n: n for n in _units(backends_pkg)}  # type: ignore[arg-type]


def test_every_toxic_and_fault_kind_and_rule_module_registers_a_unit() -> None:
    toxics = set(_defined_in(TOXICS, "__module__").values())  # type: ignore[arg-type]
    assert toxics == _units(toxics_pkg)
    kinds = {k.__module__.rsplit(".", 1)[-1] for k in fault_kinds().values()}
    assert _units(kinds_pkg) <= kinds
    rules = {r.check.__module__.rsplit(".", 1)[-1] for r in all_rules().values()}
    assert _units(rules_pkg) <= rules


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
    assert all(type(a).__module__ == f"fracas.fakes.actions.{k}" for k, a in ACTIONS.items())
