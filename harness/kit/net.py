"""Loopback ports: finding free ones and knowing when one is listening.

Everything fracas starts listens on 127.0.0.1 only; these helpers never touch
another interface.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import socket
import threading
from collections import deque
from pathlib import Path

LOOPBACK = "127.0.0.1"


#: The lowest port ``free_port`` hands out below the kernel's ephemeral range.
_FLOOR = 10000
#: Ports handed out lately by this process, not handed out again while it remembers them.
_recent: deque[int] = deque(maxlen=512)
_lock = threading.Lock()
_random = random.SystemRandom()


def _ephemeral_range() -> tuple[int, int] | None:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return None


def free_port(host: str = LOOPBACK) -> int:
    """A port that was free just now, chosen below the kernel's ephemeral range.

    A port is only *known* free until it is released, and the child that will listen on
    it binds it some hundred milliseconds later. A port from ``bind(0)`` lies in the
    ephemeral range, where the kernel hands the same port to the next ``bind(0)`` (another
    pytest-xdist worker's proxy, say) in that gap: CI saw a fake die with EADDRINUSE that
    way. Below that range the kernel hands out nothing by itself, so only another process
    choosing at random, as this does, could take it. Where the range is unknown or leaves
    too little room below it, the kernel chooses (``bind(0)``).
    """
    span = _ephemeral_range()
    if span is not None and span[0] - _FLOOR >= 2000:
        for _ in range(64):
            port = _random.randrange(_FLOOR, span[0])
            with _lock:
                if port in _recent:
                    continue
            if _bindable(host, port):
                with _lock:
                    _recent.append(port)
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


#: What a process that lost its port says as it exits, in the words of most runtimes
#: (Python's and Go's "address already in use", Node's EADDRINUSE).
_LOST_BIND = re.compile(r"address already in use|EADDRINUSE", re.IGNORECASE)


def says_port_lost(text: str) -> bool:
    """Whether a process's last words (a ``ProcessFailed``'s text, its log's tail) say
    that it could not bind its port: ``free_port`` only says a port *was* free, and the
    child binds it a moment later, so another process may have taken it in between."""
    return bool(_LOST_BIND.search(text))


def _bindable(host: str, port: int) -> bool:
    """Nothing holds the port, not even a connection in TIME_WAIT (no SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


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
