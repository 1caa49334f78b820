"""A small disk of the test's own, to fill up or make read-only (issue 21, hostile
environment): a tmpfs mounted for the test and unmounted after it. Mounting needs root;
without it the test is skipped with that reason (SQLite's max_page_count would fake a
full disk from inside the process, which is not the failure a user's disk gives)."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(where: Path, size: str = "4m") -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("a small disk is a tmpfs mount, which needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte with one file; deleting it gives the space back."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 16, 4096, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


def read_only(disk: Path, yes: bool = True) -> None:
    """Remount the disk read-only (or writable again); no file on it may be open for writing."""
    mode = "ro" if yes else "rw"
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True)


def integrity(db: Path) -> str:
    """SQLite's own check of the whole file: "ok" or what is broken."""
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
