"""The import contracts in pyproject.toml hold, and stay complete: a module added to
``harness`` or ``fakes`` is forbidden to the proxy and the checkers unless it is one they
may use, a group added to ``harness`` must take its place among the layers, and a
file-level import cycle fails even when one of its imports hides inside a function or
under ``TYPE_CHECKING``."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from fracas import fakes, harness

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")

#: what each restricted layer may import besides itself
ALLOWED = {
    "fracas.harness.toxiproxy": {"fracas.fakes.contract"},
    "fracas.harness.checkers": {"fracas.fakes.contract", "fracas.harness.model"},
}


def _config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]  # type: ignore[no-any-return]


def _contracts(kind: str) -> list[dict[str, Any]]:
    return [c for c in _config()["contracts"] if c["type"] == kind]


def _forbidden() -> dict[str, dict[str, Any]]:
    return {c["source_modules"][0]: c for c in _contracts("forbidden")}


def _siblings() -> set[str]:
    """The harness's groups and the fakes' modules, each by its full name."""
    return {f"{pkg.__name__}.{m.name}" for pkg in (harness, fakes)
            for m in pkgutil.iter_modules(pkg.__path__)}  # fmt: skip


def _covered(module: str, forbidden: set[str]) -> bool:
    """A module is forbidden when it, or a package holding it, is on the list."""
    parts = module.split(".")
    return any(".".join(parts[:i]) in forbidden for i in range(1, len(parts) + 1))


def test_each_restricted_layer_forbids_every_module_it_may_not_use() -> None:
    contracts = _forbidden()
    for layer, allowed in ALLOWED.items():
        forbidden = set(contracts[layer]["forbidden_modules"])
        expected = _siblings() - allowed - {layer}
        missing = sorted(m for m in expected if not _covered(m, forbidden))
        assert not missing, f"{layer} may import {missing}"
        assert not any(_covered(m, forbidden) for m in allowed), layer


def test_every_harness_group_is_a_layer_once() -> None:
    [layers] = [c for c in _contracts("layers") if c.get("containers") == ["fracas.harness"]]
    named = [g.strip() for layer in layers["layers"] for g in layer.split("|")]
    groups = sorted(m.name for m in pkgutil.iter_modules(harness.__path__) if m.ispkg)
    assert sorted(named) == groups  # each group once, none missing
    assert layers["exhaustive"] is True  # and lint-imports fails on a new group too
    # The bottom of the meeting point: the model sits below all that read it.
    order = [set(g.strip() for g in layer.split("|")) for layer in layers["layers"]]
    depth = {g: i for i, layer in enumerate(order) for g in layer}
    assert all(depth[g] < depth["model"] for g in ("checkers", "report", "run", "search"))


def test_every_package_is_checked_for_cycles() -> None:
    [acyclic] = _contracts("acyclic_siblings")
    assert set(acyclic["ancestors"]) == {"fracas.harness", "fracas.fakes", "fracas.orchestrator"}
    assert acyclic.get("depth", 10) >= 3  # harness.<group>.<subpackage> siblings too


CYCLES = {
    "__init__.py": "",
    "a.py": "def f() -> None:\n    from scratch import b  # noqa: F401\n",
    "b.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from scratch import c\n",
    "c.py": "import scratch.a\n",
}


def test_a_cycle_through_a_function_and_type_checking_import_breaks_the_contract(
    tmp_path: Path,
) -> None:
    """The repo's own cycle contract, with its top-level options, on a scratch package
    whose only cycle runs through an import inside a function and one under
    TYPE_CHECKING: lint-imports must call it broken."""
    pkg = tmp_path / "scratch"
    pkg.mkdir()
    for name, text in CYCLES.items():
        (pkg / name).write_text(text)
    [acyclic] = _contracts("acyclic_siblings")
    options = {k: v for k, v in _config().items() if k not in ("root_packages", "contracts")}
    contract = {**acyclic, "ancestors": ["scratch"]}
    toml = ["[tool.importlinter]", 'root_packages = ["scratch"]']
    toml += [f"{k} = {json.dumps(v)}" for k, v in options.items()]  # JSON scalars are TOML
    toml += ["[[tool.importlinter.contracts]]"]
    toml += [f"{k} = {json.dumps(v)}" for k, v in contract.items()]
    (tmp_path / "pyproject.toml").write_text("\n".join(toml) + "\n")
    run = subprocess.run([str(LINT), "--no-cache"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    assert "No cycles are allowed in scratch" in run.stdout
    assert "1 broken" in run.stdout


def test_the_import_contracts_are_kept() -> None:
    run = subprocess.run([str(LINT)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 broken" in run.stdout
