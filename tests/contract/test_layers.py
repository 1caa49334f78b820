"""The import contracts in pyproject.toml hold, and their forbidden lists stay complete:
a module added to ``harness`` or ``fakes`` is forbidden to the proxy and the checkers
unless it is one they may use."""

from __future__ import annotations

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


def _siblings() -> set[str]:
    return {f"{pkg.__name__}.{m.name}" for pkg in (harness, fakes)
            for m in pkgutil.iter_modules(pkg.__path__)}  # fmt: skip


def test_each_restricted_layer_forbids_every_module_it_may_not_use() -> None:
    contracts = _contracts()
    for layer, allowed in ALLOWED.items():
        forbidden = set(contracts[layer]["forbidden_modules"])  # type: ignore[call-overload]
        expected = _siblings() - allowed - {layer}
        assert expected <= forbidden, f"{layer} may import {sorted(expected - forbidden)}"
        assert not forbidden & allowed, layer


def test_the_import_contracts_are_kept() -> None:
    run = subprocess.run([str(LINT)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 broken" in run.stdout
