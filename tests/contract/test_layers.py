"""The import contracts in pyproject.toml hold, and their forbidden lists stay complete:
a module added to ``harness`` or ``fakes`` is forbidden to the proxy and the checkers
unless it is one they may use."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

from fracas import fakes, harness

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")

#: what each restricted layer may import besides itself
ALLOWED = {
    "fracas.harness.toxiproxy": {"fracas.fakes.contract"},
    "fracas.harness.checkers": {"fracas.fakes.contract", "fracas.harness.run.history"},
}


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["source_modules"][0]: c for c in config["tool"]["importlinter"]["contracts"]
            if c["type"] == "forbidden"}  # fmt: skip


#: harness's groups: their modules are siblings one by one (the checkers may use one of run's)
GROUPS = ("front", "kit", "run", "search")


def _siblings() -> set[str]:
    out: set[str] = set()
    for pkg in (harness, fakes):
        for m in pkgutil.iter_modules(pkg.__path__):
            name = f"{pkg.__name__}.{m.name}"
            if pkg is harness and m.name in GROUPS:
                group = importlib.import_module(name)
                out |= {f"{name}.{sub.name}" for sub in pkgutil.iter_modules(group.__path__)}
            else:
                out.add(name)
    return out


def _covered(module: str, forbidden: set[str]) -> bool:
    """A module is forbidden when it, or a package holding it, is on the list."""
    parts = module.split(".")
    return any(".".join(parts[:i]) in forbidden for i in range(1, len(parts) + 1))


def test_each_restricted_layer_forbids_every_module_it_may_not_use() -> None:
    contracts = _contracts()
    for layer, allowed in ALLOWED.items():
        forbidden = set(contracts[layer]["forbidden_modules"])  # type: ignore[call-overload]
        expected = _siblings() - allowed - {layer}
        missing = sorted(m for m in expected if not _covered(m, forbidden))
        assert not missing, f"{layer} may import {missing}"
        assert not any(_covered(m, forbidden) for m in allowed), layer


def test_the_import_contracts_are_kept() -> None:
    run = subprocess.run([str(LINT)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 broken" in run.stdout
