"""Does an orchestrator command line name something that can run? Checked before any
process starts, so a typo is one message (what, why, what to do), not a traceback."""

from __future__ import annotations

import difflib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from fracas.harness.adapters.base import AdapterError


def resolve_executable(program: str, cwd: str | None = None) -> str | None:
    """The file `program` runs (a path, or a name looked up on PATH), or None."""
    if os.sep in program or (os.altsep and os.altsep in program):
        path = Path(program)
        if not path.is_absolute() and cwd:
            path = Path(cwd) / path
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(program)


def check_command(argv: Sequence[str], cwd: str | None = None) -> None:
    """Raise AdapterError unless argv[0] resolves to an executable and every argument
    that looks like a script path (``*.py``) exists."""
    if not argv:
        raise AdapterError("orchestrator command is empty; give the command that starts it")
    if cwd and not Path(cwd).is_dir():
        raise AdapterError(
            f"orchestrator command {' '.join(argv)!r} runs in {cwd}, which does not exist "
            "here (a replay file from another machine?). Give --orchestrator CMD to replay "
            "against a command from this directory."
        )
    program = argv[0]
    if resolve_executable(program, cwd) is None:
        where = f" (from {cwd})" if cwd else ""
        close = difflib.get_close_matches(Path(program).name, _common_programs(), n=1)
        hint = f' Did you mean "{close[0]}"?' if close and close[0] != program else ""
        raise AdapterError(
            f"orchestrator command {' '.join(argv)!r}: {program!r} is not an executable "
            f"file or a program on PATH{where}.{hint} Fix --orchestrator, "
            "FRACAS_ORCHESTRATOR or [tool.fracas.orchestrator] command."
        )
    base = Path(cwd) if cwd else Path.cwd()
    for arg in argv[1:]:
        if arg.endswith(".py") and not arg.startswith("-") and not (base / arg).is_file():
            raise AdapterError(
                f"orchestrator command {' '.join(argv)!r}: script {arg!r} does not exist "
                f"(looked in {base}). Fix the path, or run from the directory it is relative to."
            )


def _common_programs() -> list[str]:
    return ["python", "python3", "uv", "node", "java", "go", "cargo", "dotnet", "ruby"]
