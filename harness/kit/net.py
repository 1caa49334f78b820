"""Loopback ports: finding free ones and knowing when one is listening.

Everything fracas starts listens on 127.0.0.1 only; these helpers never touch
another interface.
"""

from __future__ import annotations

import itertools
import os
import socket
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port the kernel just said was free (bind to 0, read it back, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def is_listening(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    """True when a TCP connect to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def listener_in_session(port: int, session: int, host: str = LOOPBACK) -> bool | None:
    """Whether the TCP listener on host:port belongs to a process of ``session`` (fracas
    starts each child as a session leader, so its pid is the session id of it and its
    children). None when this cannot be told (no /proc, no such listener yet)."""
    try:
        table = Path("/proc/net/tcp").read_text()
    except OSError:
        return None
    want = f" {socket.inet_aton(host)[::-1].hex().upper()}:{port:04X} "
    inodes = {
        cols[9]
        for cols in (line.split() for line in table.splitlines()[1:] if want in line)
        if len(cols) > 9 and cols[3] == "0A"  # local address matches; 0A: LISTEN
    }
    if not inodes:
        return None
    links = {f"socket:[{inode}]" for inode in inodes}
    leader = Path(f"/proc/{session}")
    others = (p for p in Path("/proc").iterdir() if p.name.isdigit() and p != leader)
    for proc in itertools.chain([leader], others):  # the leader itself, nearly always
        if not _in_session(proc, session):
            continue
        try:
            if any(os.readlink(fd) in links for fd in (proc / "fd").iterdir()):
                return True
        except OSError:
            continue
    return False


def _in_session(proc: Path, session: int) -> bool:
    try:
        stat = (proc / "stat").read_text()
    except OSError:
        return False
    # Fields after the parenthesised command name: state ppid pgrp session ...
    fields = stat.rsplit(")", 1)[-1].split()
    return len(fields) > 3 and fields[3] == str(session)
