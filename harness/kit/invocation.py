"""How to call the fracas that is running, in a command printed for the user.

A printed ``fracas replay FILE`` must run as printed from where the suite ran: with the
venv not activated, ``fracas`` is not on PATH (or is another install's), so the command
names the script next to the running interpreter instead.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def fracas_command() -> str:
    """``fracas`` when that name on PATH is the running install's script, else the path
    of that script (relative to the cwd when shorter), else ``PYTHON -m`` of the CLI."""
    here = Path(sys.executable).parent
    script = here / ("fracas.exe" if os.name == "nt" else "fracas")
    on_path = shutil.which("fracas")
    if on_path is not None and script.exists() and _same(Path(on_path), script):
        return "fracas"
    if script.exists():
        return shlex.quote(_shortest(script))
    return f"{shlex.quote(_shortest(Path(sys.executable)))} -m fracas.harness.front.cli"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _shortest(path: Path) -> str:
    """``path`` relative to the cwd (as ``./x`` or ``../x``) when that is shorter."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        return absolute
    if not relative.startswith(".."):
        relative = os.path.join(".", relative) if os.sep not in relative else relative
    return relative if len(relative) < len(absolute) else absolute
