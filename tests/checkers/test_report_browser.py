"""The HTML report of a real failing run, opened in headless Chromium (issue 6).

One module-scoped run: the naive orchestrator with ``--bug no-idempotency`` under an
``after_commit`` drop on ``POST /payments`` pinned to ``ord-0001`` double-charges that order.
Its report must load with no console error, no exception and no network request, draw the
timeline (one swimlane per service, the fault band, the violating order in the violation colour, not the 5xx red), and the
detector that says so must catch a page that does have those faults (negative control).

Needs Debian's ``chromium`` (``apt-get install chromium``); skips without it, unless
``FRACAS_REQUIRE_CHROMIUM=1`` (set by CI) turns the skip into a failure.
"""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    INSTALL_HINT,
    WINDOW,
    Browser,
    Image,
    PageLog,
    chromium_or_skip,
    read_png,
)
from playwright.sync_api import Page

from fracas.fakes.contract import service_names
from fracas.harness.adapters.select import AdapterSpec
from fracas.harness.checkers.view import View
from fracas.harness.report.common import PALETTE
from fracas.harness.report.html import CSS
from fracas.harness.report.outcome import TestOutcome
from fracas.harness.report.writer import write_reports
from fracas.harness.run.runner import RunResult, run
from fracas.harness.run.topology import Topology, TopologyConfig
from fracas.harness.run.workload import orders

ROOT = Path(__file__).resolve().parents[2]
BAD_ORDER = "ord-0001"

RGB = tuple[int, int, int]


@dataclass
class FailingReport:
    html: Path
    result: RunResult
    view: View

    @property
    def url(self) -> str:
        return self.html.as_uri()

    @property
    def lane_names(self) -> list[str]:
        """The swimlanes in drawing order, read from the HTML file itself."""
        return re.findall(r'<text class="ln"[^>]*>([^<]+)</text>', self.html.read_text())


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_or_skip()


@pytest.fixture(scope="module")
def failing_report(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> FailingReport:
    base = tmp_path_factory.mktemp("browser-report")
    naive = AdapterSpec(
        command=(
            sys.executable,
            str(ROOT / "examples" / "naive_orchestrator.py"),
            "--bug",
            "no-idempotency",
        ),
        source="test",
        capabilities=frozenset({"crash", "restart", "pause"}),
    )
    params = {
        "path": "/payments",
        "method": "POST",
        "phase": "after_commit",
        "times": 1,
        "order_id": BAD_ORDER,
    }
    schedule = [{"fault": {"kind": "drop", "target": "payment", "params": params}, "at": 0}]
    config = TopologyConfig(run_dir=base / "run", seed=0, orchestrator=naive)
    with Topology.start(config) as topo:
        result = run(topo, orders(3), schedule, reset=False)
    found = {(v.rule, v.order_id) for v in result.verdict.violations}
    assert ("double-charge", BAD_ORDER) in found, _why_not(result, found)
    outcome = TestOutcome("s.py::failing-run", "failed", "ConsistencyError", violation=True)
    write_reports(base / "reports", [("failing-run", result)], outcomes={0: outcome})
    return FailingReport(base / "reports" / "failing-run.html", result, View(result.snapshot))


def _why_not(result: RunResult, found: set[tuple[str, str | None]]) -> str:
    """Everything needed to tell why the double charge did not happen, should it not."""
    payments = result.snapshot.ledgers.get("payment", {}).get("tables", {}).get("payments", [])
    journal = [
        {k: e.get(k) for k in ("method", "path", "status", "order_id", "fault")}
        for e in result.history.journals.get("payment", [])
    ]
    return (
        f"violations {sorted(found, key=str)}; rule errors {result.verdict.errors}; "
        f"drop fired {result.fired('drop', 'payment')}; reported {result.snapshot.reported}; "
        f"payments {payments}; payment journal {journal}; notes "
        f"{[(e.op, e.data) for e in result.history.events if e.type != 'ok' and e.op != 'status']}"
    )


@pytest.fixture(scope="module")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    b = Browser(chromium, tmp_path_factory.mktemp("chromium"))
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def report_page(browser: Browser, failing_report: FailingReport) -> Iterator[tuple[Page, PageLog]]:
    with browser.page(failing_report.url) as opened:
        yield opened


# -- console and network -------------------------------------------------------------------


def test_failing_report_loads_with_no_console_error_and_nothing_from_the_network(
    browser: Browser, report_page: tuple[Page, PageLog], failing_report: FailingReport
) -> None:
    _, log = report_page
    browser.flush(log)
    assert log.problems() == []
    # the detector saw the page load at all: the document itself is the only request
    assert log.requests == [failing_report.url]


def test_the_detector_catches_a_console_error_an_exception_and_a_network_load(
    browser: Browser, tmp_path: Path
) -> None:
    """Negative control: the same detector on a page that does everything the report must not."""
    with socket.socket() as s:  # a local port nobody listens on: the load fails at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bad</title></head>'
        f'<body><img src="http://127.0.0.1:{port}/pixel.png" alt="">'
        '<script>console.log("just a log line"); console.error("x");</script>'
        '<script>throw new Error("deliberate failure");</script></body></html>',
        encoding="utf-8",
    )
    with browser.page(bad.as_uri()) as (_, log):
        browser.flush(log)
    # console.log is not a problem; console.error is, and so is the browser's own line
    # about the refused load
    errors = log.console_errors
    assert "console.error: x" in errors and not any("just a log line" in e for e in errors)
    assert any("Failed to load resource" in e for e in errors), errors
    assert any("deliberate failure" in x for x in log.exceptions), log.exceptions
    assert log.network_requests == [f"http://127.0.0.1:{port}/pixel.png"]
    assert log.failed_loads, log.events
    assert len(log.problems()) >= 5


# -- the timeline in the DOM ---------------------------------------------------------------

TIMELINE_JS = """(() => {
  const s = document.getElementById('timeline');
  const box = e => { const q = e.getBoundingClientRect(); return [q.width, q.height]; };
  return {
    size: box(s),
    lanes: [...s.querySelectorAll('text.ln')].map(t => t.textContent),
    laneBoxes: [...s.querySelectorAll('rect.lane')].map(box),
    bands: [...s.querySelectorAll('rect.band')].map(b => ({
      box: box(b), title: b.querySelector('title').textContent})),
    bad: [...s.querySelectorAll('.bad')].map(e => ({
      o: e.getAttribute('data-o'), fill: getComputedStyle(e).fill, box: box(e)})),
  };
})()"""


def _css_colour(selector: str, prop: str = "fill") -> str:
    m = re.search(re.escape(selector) + r"\{[^}]*?" + prop + r":(#[0-9a-fA-F]{6})", CSS)
    assert m, f"{selector} has no {prop} in the report's CSS"
    return m.group(1)


def _rgb(hex_colour: str) -> RGB:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def test_the_timeline_draws_every_lane_the_fault_band_and_the_violating_order(
    browser: Browser, report_page: tuple[Page, PageLog], failing_report: FailingReport
) -> None:
    page, log = report_page
    t: dict[str, Any] = browser.evaluate(page, TIMELINE_JS)
    assert t["size"][0] > 1000 and t["size"][1] > 100, t["size"]

    view = failing_report.view
    services = (
        {"orchestrator", *service_names()}
        | set(view.snapshot.journals)
        | {f.target for f in view.faults}
    )
    assert sorted(t["lanes"]) == sorted(services)  # one lane per service, none twice
    assert len(t["laneBoxes"]) == len(t["lanes"])
    assert all(w > 500 and h > 10 for w, h in t["laneBoxes"]), t["laneBoxes"]

    assert t["bands"], "no fault band"
    assert all(b["box"][0] >= 2 and b["box"][1] > 10 for b in t["bands"]), t["bands"]
    assert any(
        "drop" in b["title"] and b["title"].split(": ")[0].endswith(" on payment")
        for b in t["bands"]
    ), [b["title"] for b in t["bands"]]

    bad_fill = "rgb({}, {}, {})".format(*_rgb(_css_colour(".bad")))
    assert _css_colour(".bad") == PALETTE["violation"] != _css_colour(".t5")
    assert t["bad"], "the violating order is not marked on the timeline"
    assert {b["o"] for b in t["bad"]} == {BAD_ORDER}
    assert all(b["fill"] == bad_fill and b["box"][0] > 0 for b in t["bad"]), t["bad"]

    # clicking the order in its violation highlights its ticks and opens its trace
    clicked = browser.evaluate(
        page,
        f"""(() => {{
          document.querySelector('.viol .oid[data-o="{BAD_ORDER}"]').click();
          const ticks = [...document.querySelectorAll('#timeline [data-o="{BAD_ORDER}"]')];
          return {{ticks: ticks.length, lit: ticks.filter(e => e.classList.contains('hl')).length,
                  open: document.getElementById('trace-{BAD_ORDER}').open}};
        }})()""",
    )
    assert clicked["ticks"] > 0 and clicked["lit"] == clicked["ticks"] and clicked["open"], clicked
    assert browser.flush(log).problems() == []


# -- the screenshot --------------------------------------------------------------------------


def _near(p: RGB, q: RGB, tol: int) -> bool:
    return abs(p[0] - q[0]) <= tol and abs(p[1] - q[1]) <= tol and abs(p[2] - q[2]) <= tol


def _blend(fg: RGB, bg: RGB, alpha: float) -> RGB:
    r, g, b = (round(alpha * f + (1 - alpha) * k) for f, k in zip(fg, bg, strict=True))
    return r, g, b


def _stripes(img: Image, colours: list[RGB], min_run: int) -> list[tuple[int, int]]:
    """Bands of consecutive rows in which at least ``min_run`` pixels have one of
    ``colours`` (a lane, or a lane under a fault band: a long fault covers most of it)."""
    hits = [
        sum(1 for x in range(img.width) if any(_near(img.pixel(x, y), c, 1) for c in colours))
        >= min_run
        for y in range(img.height)
    ]
    out: list[tuple[int, int]] = []
    for y, hit in enumerate(hits):
        if hit and out and out[-1][1] == y:
            out[-1] = (out[-1][0], y + 1)
        elif hit:
            out.append((y, y + 1))
    return out


def _count(img: Image, rows: tuple[int, int], colour: RGB, tol: int) -> int:
    return sum(
        1 for y in range(*rows) for x in range(img.width) if _near(img.pixel(x, y), colour, tol)
    )


def test_screenshot_shows_the_timeline(browser: Browser, failing_report: FailingReport) -> None:
    shot = failing_report.html.with_suffix(".png")  # kept beside the report
    browser.screenshot(failing_report.url, shot)
    img = read_png(shot)
    assert (img.width, img.height) == WINDOW
    colours = {
        img.rows[y][i : i + 3]
        for y in range(0, img.height, 4)
        for i in range(0, len(img.rows[y]), 12)
    }
    assert len(colours) > 50, f"a near-blank screenshot: {len(colours)} colours"

    lane = _rgb(_css_colour(".lane"))
    names = failing_report.lane_names
    assert "payment" in names, names
    # the drop on POST /payments is an HTTP rule: its band is the paler one, over the lane
    fault = failing_report.view.faults[0]
    m = re.search(
        r"\.band\.rule\{opacity:([.\d]+)\}"
        if fault.is_http_rule
        else r"\.band\{[^}]*opacity:([.\d]+)",
        CSS,
    )
    assert m
    band = _blend(_rgb(_css_colour(".band")), lane, float(m.group(1)))
    stripes = _stripes(img, [lane, band], min_run=img.width // 3)
    assert len(stripes) == len(names), (names, stripes)  # every swimlane drawn, in view
    assert all(b - a >= 20 for a, b in stripes), stripes
    target = stripes[names.index(fault.target)]
    assert _count(img, target, band, tol=3) > 200, (
        f"no fault band {band} in the {fault.target} lane"
    )
    for other in (s for n, s in zip(names, stripes, strict=True) if n != fault.target):
        assert _count(img, other, band, tol=1) == 0

    # the double-charged order's ticks are in the violation colour, in the payment lane among others
    red = _rgb(_css_colour(".bad"))
    reds = {n: _count(img, s, red, tol=12) for n, s in zip(names, stripes, strict=True)}
    assert reds["payment"] >= 10, f"no tick {red} of {BAD_ORDER} in the payment lane: {reds}"
    assert sum(1 for n in reds.values() if n >= 10) >= 3, reds


# -- the index page -------------------------------------------------------------------------

INDEX_JS = """(() => {
  const runs = [...document.querySelectorAll('#runs tr')].slice(1).map(r =>
    [...r.querySelectorAll('td')].map(td => td.textContent.trim()));
  const cov = document.getElementById('coverage');
  const box = cov.getBoundingClientRect();
  const none = [...cov.querySelectorAll('td.none')];
  return {runs, covBox: [box.width, box.height], none: none.length,
          hit: cov.querySelectorAll('td.hit').length,
          noneBg: none.length ? getComputedStyle(none[0]).backgroundColor : '',
          session: document.getElementById('session').textContent};
})()"""


def test_the_index_shows_the_failing_run_its_outcome_and_the_coverage_table(
    browser: Browser, failing_report: FailingReport
) -> None:
    index = failing_report.html.parent / "index.html"
    with browser.page(index.as_uri()) as (page, log):
        got: dict[str, Any] = browser.evaluate(page, INDEX_JS)
        assert browser.flush(log).problems() == []
    [row] = got["runs"]
    assert row[0] == "failing-run" and row[1].startswith("failed: consistency violation")
    assert "double-charge" in row[2] and "drop fault on POST /payments" in row[4], row
    assert got["covBox"][0] > 300 and got["covBox"][1] > 100, got["covBox"]
    assert got["hit"] >= 1 and got["none"] > got["hit"]  # untouched cells drawn, shaded
    assert got["noneBg"] == "rgb({}, {}, {})".format(*_rgb(PALETTE["never_hit"]))
    assert "seed" in got["session"]


# -- without Chromium ------------------------------------------------------------------------


def test_without_chromium_the_tests_skip_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRACAS_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("FRACAS_REQUIRE_CHROMIUM", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        chromium_or_skip()
    monkeypatch.setenv("FRACAS_REQUIRE_CHROMIUM", "1")
    with pytest.raises(pytest.fail.Exception, match="FRACAS_REQUIRE_CHROMIUM=1"):
        chromium_or_skip()
    assert "apt-get install" in INSTALL_HINT
