#!/usr/bin/env python3
"""The two Quickstart commands, runnable on a machine with only Python 3.11 and pip.

    python3 dev.py run     # the scenario suite against the bundled orchestrator, with its report
    python3 dev.py test    # fracas's own tests (what CI runs), on pytest-xdist's -n auto

Each makes (or refreshes) a virtual environment in ``.venv`` with fracas installed,
then runs the job inside it; extra arguments pass through. ``lint`` runs ruff, mypy and
the import contracts.
The venv is rebuilt only when pyproject.toml changed since it was made, so the second
run starts at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"


def bin_of(env: Path) -> Path:
    """A venv's folder of executables."""
    return env / ("Scripts" if os.name == "nt" else "bin")


BIN = bin_of(VENV)
STAMP = VENV / ".fracas-installed"

JOBS = {
    "run": [str(BIN / "fracas"), "run"],
    "test": [str(BIN / "python"), "-m", "pytest"],
    "lint": None,
}


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def complete(env: Path) -> bool:
    """Whether the venv at ``env`` was made whole. Making one writes its python first,
    then its activate script, then pip: a first run stopped in between (Ctrl-C, a
    killed job) left a python and no activate, and every later run took that venv as
    made, so the README's `. .venv/bin/activate` failed."""
    return all((bin_of(env) / name).exists() for name in ("python", "activate", "pip"))


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before any install
        sys.exit(f"fracas needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text() == _fingerprint() and complete(VENV):
        return
    if not complete(VENV):
        print("fracas: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("fracas: installing fracas and its test tools into .venv", flush=True)
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-e", f"{ROOT}[test]"],
        check=True,
    )
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in JOBS:
        print(__doc__.strip(), file=sys.stderr)
        print(f"\ndev.py: expected one of {', '.join(JOBS)}", file=sys.stderr)
        return 2
    job, rest = argv[0], argv[1:]
    ensure_venv()
    os.chdir(ROOT)
    if job == "lint":
        for cmd in (
            [str(BIN / "ruff"), "check", "."],
            [str(BIN / "mypy"), "fracas/harness"],
            [str(BIN / "lint-imports")],  # the layer contracts in pyproject.toml
        ):
            code = subprocess.call(cmd)
            if code:
                return code
        return 0
    if job == "test" and not any(a == "-n" or a.startswith(("-n", "--numprocesses", "--dist"))
                                 for a in rest) and "no:xdist" not in rest:
        # The tests mostly wait on processes they started, so they run side by side, one
        # pytest-xdist worker per core (pass -n 0 to run them in one process).
        rest = ["-n", "auto", *rest]
    cmd = [*JOBS[job], *rest]  # type: ignore[misc]
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
