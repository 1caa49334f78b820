"""What the orchestrator does when its state directory stops taking writes: it stops.

A full disk or a read-only volume makes a commit fail after the saga's in-memory state
has moved on, and an orchestrator that carried on would act on steps it never saved.
Stopping at once is a crash, which is the failure it is built to survive: everything
committed before is intact (SQLite rolls the failed transaction back), and a restart
once there is space resumes every unfinished order from there. What it says is one
line naming the directory and the reason, not a traceback.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn

#: The exit code of a stop for want of storage (sysexits' EX_CANTCREAT): told apart
#: from a crash by whoever restarts the orchestrator.
EXIT_STORAGE = 73
_DISK_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EIO}

log = logging.getLogger("fracas.orchestrator")


def is_storage_error(exc: BaseException) -> bool:
    """SQLite refusing a write (full, read-only, I/O), or the OS refusing the directory."""
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        return not isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError)
    return isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS


def describe(state_dir: Path, exc: BaseException) -> str:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return (
        f"orchestrator: cannot write its state in {state_dir}: {reason.lower()} "
        "(is the disk full or read-only?)"
    )


def fail_stop(state_dir: Path, exc: BaseException) -> NoReturn:
    """Say why in one line and exit at once, as a crash would."""
    print(f"{describe(state_dir, exc)}; stopping: committed orders resume on restart",
          file=sys.stderr, flush=True)  # fmt: skip
    logging.shutdown()
    os._exit(EXIT_STORAGE)
