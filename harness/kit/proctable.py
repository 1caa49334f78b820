"""The process table and the TCP sockets, read from /proc: what a leak check counts
(tests/harness/test_leaks.py, bench/leaks.py), and which sockets a process holds
(tests/choreography). Read, never assumed: a process the harness believes it stopped
still counts if the kernel still runs it."""

from __future__ import annotations

import os
from pathlib import Path


def descendants(root: int) -> set[int]:
    """Every live process whose parent chain leads to ``root``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def tcp_rows() -> list[list[str]]:
    """Every row of /proc/net/tcp and /proc/net/tcp6, split into its columns (local
    address at 1, remote at 2, state at 3: 0A LISTEN, 01 ESTABLISHED; inode at 9)."""
    rows: list[list[str]] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        rows.extend(line.split() for line in lines)
    return rows


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets ``pid`` holds open (none once it is gone)."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return set()
    out: set[int] = set()
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(int(target[8:-1]))
    return out


def listening() -> dict[int, int]:
    """Socket inode -> port, for every TCP socket in LISTEN."""
    return {int(r[9]): int(r[1].rsplit(":", 1)[1], 16) for r in tcp_rows() if r[3] == "0A"}


def ports_of(pids: set[int]) -> set[int]:
    """The TCP ports these processes listen on."""
    inodes = listening()
    return {inodes[i] for pid in pids for i in socket_inodes(pid) if i in inodes}


def rss_mb(pid: int | None) -> float | None:
    """A live process's resident memory in MB, from /proc (None when it is gone): what
    the soaks sample per process."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
