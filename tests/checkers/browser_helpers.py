"""Headless Chromium for the report's browser tests (a unique module name: tests/ has no packages).

Playwright drives Debian's ``chromium`` (``executable_path``; Playwright's own browser
download is never used), and a small PNG decoder reads its screenshots back. The tests
skip without Chromium, and fail instead under ``FRACAS_REQUIRE_CHROMIUM=1`` (CI).

Playwright's driver owns the browser over a pipe: closing the browser, or the driver
going away with the test process, ends every Chromium process it started.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, Playwright, Request, sync_playwright
from playwright.sync_api import Error as PlaywrightError

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
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",  # the screenshot test counts pixels across the whole width
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


# -- what a page did -------------------------------------------------------------------


@dataclass
class PageLog:
    """Everything one page reported, from before it started loading."""

    page: Page
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def attach(self) -> PageLog:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda err: self.exceptions.append(str(err)))
        self.page.on("request", lambda req: self.requests.append(req.url))
        self.page.on("requestfailed", self._on_failed)
        return self

    def _on_console(self, msg: ConsoleMessage) -> None:
        self.console.append((msg.type, msg.text))

    def _on_failed(self, req: Request) -> None:
        self.failed.append(f"{req.url}: {req.failure}")

    @property
    def console_errors(self) -> list[str]:
        """console.error/assert/warn calls, and the browser's own error lines (a failed
        load, a CSP refusal), which Playwright reports as console errors too."""
        return [f"console.{t}: {text}" for t, text in self.console
                if t in ("error", "assert", "warning")]

    @property
    def network_requests(self) -> list[str]:
        """Requests for anything but a local file or inline data."""
        return [u for u in self.requests if not u.startswith(("file:", "data:"))]

    @property
    def failed_loads(self) -> list[str]:
        return list(self.failed)

    @property
    def events(self) -> list[Any]:
        return [*self.console, *self.exceptions, *self.requests, *self.failed]

    def problems(self) -> list[str]:
        return [
            *self.console_errors,
            *(f"exception: {x}" for x in self.exceptions),
            *(f"network request: {u}" for u in self.network_requests),
            *(f"failed load: {x}" for x in self.failed_loads),
        ]


class Browser:
    """One headless Chromium for a test module, pages opened at the report's window size."""

    def __init__(self, binary: str, work: Path) -> None:
        self.work = work
        self._pw: Playwright = sync_playwright().start()
        try:
            self.browser = self._pw.chromium.launch(
                executable_path=binary, args=list(FLAGS), headless=True
            )
        except BaseException:
            self._pw.stop()
            raise

    @contextmanager
    def page(self, url: str, timeout: float = 20.0) -> Iterator[tuple[Page, PageLog]]:
        """Open ``url`` in a new page with every report on from the start; yields the page
        and its PageLog, which keeps collecting while the page is open (``flush`` before
        judging it)."""
        page = self.browser.new_page(viewport={"width": WINDOW[0], "height": WINDOW[1]})
        try:
            log = PageLog(page).attach()
            page.goto(url, wait_until="load", timeout=timeout * 1000)
            yield page, self.flush(log)
        finally:
            page.close()

    def evaluate(self, page: Page, expression: str) -> Any:
        return page.evaluate(expression)

    def flush(self, log: PageLog) -> PageLog:
        """Round-trip through the page so every event it sent before now has arrived."""
        log.page.evaluate("0")
        return log

    def screenshot(self, url: str, out: Path) -> Path:
        """The page at ``url``, loaded, as a PNG of the window size; returns ``out``."""
        with self.page(url) as (page, _):
            page.screenshot(path=str(out))
        return out

    def close(self) -> None:
        try:
            self.browser.close()
        except PlaywrightError:
            pass  # already gone; the driver's exit below ends what is left
        finally:
            self._pw.stop()


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
