"""Headless Chromium for the report's browser tests (a unique module name: tests/ has no packages).

Only the standard library: a minimal RFC 6455 websocket client speaks the DevTools protocol
(CDP) to Debian's ``chromium``, and a small PNG decoder reads its screenshots back, so the
README's test command needs nothing but Python and pip (the tests skip without Chromium).

Every Chromium runs in its own session (process group) with a fresh profile; ``stop_group``
ends the whole group and waits until none of its processes is left.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fracas.harness.kit.waiting import DeadlineExceeded, wait_until

JSON = dict[str, Any]
DEFAULT_CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = (
    "Debian's chromium is not installed: `apt-get update && apt-get install -y chromium` "
    "(or point FRACAS_CHROMIUM at a Chromium binary)"
)
# The workplace's network is closed: without the background-networking flags Chromium's
# own connections (updates, sync, field trials) are refused and clutter the log.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
WINDOW = (1400, 1000)


# -- finding Chromium ------------------------------------------------------------------


def chromium_path() -> str | None:
    """``$FRACAS_CHROMIUM`` if set (and only it), else ``/usr/bin/chromium`` or ``chromium`` on PATH."""
    wanted = os.environ.get("FRACAS_CHROMIUM")
    candidates = [wanted] if wanted else [DEFAULT_CHROMIUM, shutil.which("chromium")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def chromium_or_skip() -> str:
    """The Chromium binary; skip without one, or fail when ``FRACAS_REQUIRE_CHROMIUM=1`` (CI)."""
    path = chromium_path()
    if path is not None:
        return path
    where = os.environ.get("FRACAS_CHROMIUM") or DEFAULT_CHROMIUM
    msg = f"no Chromium at {where}. {INSTALL_HINT}"
    if os.environ.get("FRACAS_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"FRACAS_REQUIRE_CHROMIUM=1 but {msg}", pytrace=False)
    pytest.skip(msg)


# -- processes ---------------------------------------------------------------------------


def _group_alive(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            alive.append(int(entry))
    return alive


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Kill what is left of ``proc``'s process group and wait until nothing of it runs."""
    pgid = proc.pid  # start_new_session=True: the leader's pid is the group id
    if proc.poll() is None:
        try:
            proc.wait(timeout=timeout / 2)  # a graceful close (Browser.close) may be under way
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=timeout)
    wait_until(lambda: not _group_alive(pgid), timeout, what=f"chromium group {pgid} gone")


def launch(binary: str, profile: Path, args: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    profile.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as err:
        return subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args],
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
            start_new_session=True,
        )


def screenshot(binary: str, url: str, out: Path, work: Path, timeout: float = 30.0) -> Path:
    """``chromium --screenshot=out --window-size=1400,1000 url``; returns ``out``."""
    log = work / "screenshot-chromium.log"
    proc = launch(
        binary,
        work / "screenshot-profile",
        [f"--screenshot={out}", f"--window-size={WINDOW[0]},{WINDOW[1]}", url],
        log,
    )
    try:
        code = proc.wait(timeout=timeout)
    finally:
        stop_group(proc)
    if code != 0 or not out.exists():
        raise AssertionError(f"chromium --screenshot exited {code}: {log.read_text()[-2000:]}")
    return out


# -- a minimal websocket client (RFC 6455), enough for CDP -----------------------------

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    """Text messages over one client connection; client frames masked, server frames not."""

    def __init__(self, host: str, port: int, path: str, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
        }
        accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest()).decode()
        if " 101 " not in lines[0] + " " or headers.get("sec-websocket-accept") != accept:
            raise ConnectionError(f"websocket handshake refused: {head.decode('latin-1')}")

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("no websocket data before the deadline")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 16)
        except TimeoutError as exc:
            raise DeadlineExceeded("no websocket data before the deadline") from exc
        if not chunk:
            raise ConnectionError("websocket closed by the browser")
        self.buf += chunk

    def _take(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        full = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(full, "big")).to_bytes(n, "big")
        self.sock.sendall(head + mask + masked)

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def recv(self, deadline: float) -> str:
        parts: list[bytes] = []
        while True:
            b0, b1 = self._take(2, deadline)
            fin, opcode, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._take(2, deadline))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._take(8, deadline))
            mask = self._take(4, deadline) if b1 & 0x80 else b""
            payload = self._take(n, deadline)
            if mask:
                full = (mask * (n // 4 + 1))[:n]
                payload = (int.from_bytes(payload, "big") ^ int.from_bytes(full, "big")).to_bytes(
                    n, "big"
                )
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            parts.append(payload)
            if fin:
                return b"".join(parts).decode()

    def close(self) -> None:
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


# -- the DevTools protocol ---------------------------------------------------------------


class CDPError(RuntimeError):
    pass


class CDP:
    """One browser-level connection; page sessions are flat (``sessionId`` on each message)."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[JSON] = []

    def _pump(self, deadline: float) -> JSON:
        msg: JSON = json.loads(self.ws.recv(deadline))
        if "method" in msg:
            self.events.append(msg)
        return msg

    def call(
        self,
        method: str,
        params: JSON | None = None,
        session: str | None = None,
        timeout: float = 15.0,
    ) -> JSON:
        self.next_id += 1
        mid = self.next_id
        req: JSON = {"id": mid, "method": method, "params": params or {}}
        if session:
            req["sessionId"] = session
        self.ws.send(json.dumps(req))
        deadline = time.monotonic() + timeout
        while True:
            msg = self._pump(deadline)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise CDPError(f"{method}: {msg['error']}")
                result: JSON = msg.get("result", {})
                return result

    def wait_event(self, match: Callable[[JSON], bool], since: int, timeout: float) -> JSON:
        """The first event at index >= ``since`` that matches, reading more until the deadline."""
        deadline = time.monotonic() + timeout
        i = since
        while True:
            while i < len(self.events):
                if match(self.events[i]):
                    return self.events[i]
                i += 1
            self._pump(deadline)


@dataclass
class PageLog:
    """What one page did: the CDP events of its session, sorted into what the tests judge."""

    session: str
    start: int  # index of the first browser event that can be this page's
    events: list[JSON] = field(default_factory=list)

    def _of(self, method: str) -> Iterator[JSON]:
        return (e["params"] for e in self.events if e["method"] == method)

    @property
    def console_errors(self) -> list[str]:
        """console.error/assert/warn calls: the report's own script must never make one."""
        out = []
        for p in self._of("Runtime.consoleAPICalled"):
            if p["type"] in ("error", "assert", "warning"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
                out.append(f"console.{p['type']}: {args}")
        return out

    @property
    def exceptions(self) -> list[str]:
        return [
            p["exceptionDetails"].get("exception", {}).get("description")
            or p["exceptionDetails"].get("text", "")
            for p in self._of("Runtime.exceptionThrown")
        ]

    @property
    def log_errors(self) -> list[str]:
        """Browser-side log entries at error level (failed loads, CSP, interventions...)."""
        return [
            f"{p['entry']['source']}: {p['entry']['text']} {p['entry'].get('url', '')}".strip()
            for p in self._of("Log.entryAdded")
            if p["entry"]["level"] == "error"
        ]

    @property
    def requests(self) -> list[str]:
        return [p["request"]["url"] for p in self._of("Network.requestWillBeSent")]

    @property
    def network_requests(self) -> list[str]:
        """Requests for anything but a local file or inline data."""
        return [u for u in self.requests if not u.startswith(("file:", "data:"))]

    @property
    def failed_loads(self) -> list[str]:
        return [f"{p['requestId']}: {p['errorText']}" for p in self._of("Network.loadingFailed")]

    def problems(self) -> list[str]:
        return [
            *self.console_errors,
            *(f"exception: {x}" for x in self.exceptions),
            *(f"log: {x}" for x in self.log_errors),
            *(f"network request: {u}" for u in self.network_requests),
            *(f"failed load: {x}" for x in self.failed_loads),
        ]


class Browser:
    """A headless Chromium driven over CDP (``--remote-debugging-port=0``)."""

    def __init__(self, binary: str, work: Path) -> None:
        self.work = work
        self.profile = work / "cdp-profile"
        self.log = work / "cdp-chromium.log"
        self.proc = launch(
            binary,
            self.profile,
            ["--remote-debugging-port=0", f"--window-size={WINDOW[0]},{WINDOW[1]}", "about:blank"],
            self.log,
        )
        try:
            port_file = self.profile / "DevToolsActivePort"

            def ready() -> list[str] | None:
                if self.proc.poll() is not None:
                    raise CDPError(
                        f"chromium exited {self.proc.returncode}: {self.log.read_text()[-2000:]}"
                    )
                lines = port_file.read_text().split() if port_file.exists() else []
                return lines if len(lines) >= 2 else None

            port, path = wait_until(
                ready, 20.0, what="chromium's DevToolsActivePort", fatal=(CDPError,)
            )[:2]
            self.cdp = CDP(WebSocket("127.0.0.1", int(port), path))
        except BaseException:
            stop_group(self.proc)
            raise

    def evaluate(self, session: str, expression: str) -> Any:
        res = self.cdp.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session,
        )
        if "exceptionDetails" in res:
            raise CDPError(f"evaluate {expression!r}: {res['exceptionDetails']}")
        return res["result"].get("value")

    @contextmanager
    def page(self, url: str, timeout: float = 20.0) -> Iterator[tuple[str, PageLog]]:
        """Open ``url`` in a new tab with console, log and network reporting on from the start.

        Yields the tab's session id and its PageLog, which keeps collecting while the tab is
        open (call ``flush`` before judging it).
        """
        target = self.cdp.call(
            "Target.createTarget",
            {"url": "about:blank", "newWindow": True, "width": WINDOW[0], "height": WINDOW[1]},
        )["targetId"]
        try:
            sid = self.cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Runtime", "Log", "Network", "Page"):
                self.cdp.call(f"{domain}.enable", session=sid)
            start = len(self.cdp.events)
            nav = self.cdp.call("Page.navigate", {"url": url}, sid, timeout=timeout)
            if nav.get("errorText"):
                raise CDPError(f"navigating to {url}: {nav['errorText']}")
            self.cdp.wait_event(
                lambda e: e["method"] == "Page.loadEventFired" and e.get("sessionId") == sid,
                start,
                timeout,
            )
            log = self.flush(PageLog(sid, start))
            yield sid, log
        finally:
            self.cdp.call("Target.closeTarget", {"targetId": target})

    def flush(self, log: PageLog) -> PageLog:
        """Round-trip through the page so every event it sent before now has arrived."""
        self.evaluate(log.session, "0")
        log.events = [e for e in self.cdp.events[log.start :] if e.get("sessionId") == log.session]
        return log

    def close(self) -> None:
        try:
            self.cdp.call("Browser.close", timeout=5.0)
        except (CDPError, ConnectionError, OSError, DeadlineExceeded):
            pass
        finally:
            self.cdp.ws.close()
            stop_group(self.proc)


# -- PNG -------------------------------------------------------------------------------------


@dataclass
class Image:
    width: int
    height: int
    rows: list[bytes]  # RGB, 3 bytes a pixel

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        r, g, b = self.rows[y][3 * x : 3 * x + 3]
        return r, g, b


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read_png(path: Path) -> Image:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes) to RGB rows."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat = 8, []
    width = height = depth = ctype = interlace = 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(
            f"unsupported PNG: depth {depth}, colour type {ctype}, interlace {interlace}"
        )
    bpp = 3 if ctype == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    m7 = int.from_bytes(b"\x7f" * stride, "big")
    m8 = int.from_bytes(b"\x80" * stride, "big")
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        off = y * (stride + 1)
        ft, line = raw[off], bytearray(raw[off + 1 : off + 1 + stride])
        if ft == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ft == 2:  # Up: bytewise add without carries, on the whole row at once
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            line = bytearray((((a & m7) + (b & m7)) ^ ((a ^ b) & m8)).to_bytes(stride, "big"))
        elif ft == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ft == 4:  # Paeth
            for i in range(stride):
                if i >= bpp:
                    line[i] = (line[i] + _paeth(line[i - bpp], prev[i], prev[i - bpp])) & 255
                else:
                    line[i] = (line[i] + prev[i]) & 255
        elif ft != 0:
            raise ValueError(f"bad PNG filter {ft} in row {y}")
        rows.append(bytes(line) if bpp == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
        prev = line
    return Image(width, height, rows)
