"""Reports: self-contained HTML, failure text leading with the witness, JSON, summary."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from synth_ledger import SynthWorld
from test_checkers_witness import lost_capture_retried_with_new_key

from fracas.harness.checkers import CheckResult, Snapshot, View, check
from fracas.harness.checkers.summary import summarize
from fracas.harness.model.history import History
from fracas.harness.report import build_report, failure_text, render_html, write_json
from fracas.harness.report.writer import write_reports

CSS_LOADS = re.compile(r"@import|url\(|@font-face", re.IGNORECASE)


class _Loads(HTMLParser):
    """Collects everything in a document that would make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in = tag
        if tag in ("link", "iframe", "object", "embed", "base"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            v = (value or "").strip().lower()
            if name in ("src", "href", "xlink:href", "action", "poster", "data", "srcset") and (
                v.startswith(("http:", "https:", "//", "ftp:"))
                or (tag == "script" and name == "src")
            ):
                self.found.append(f"<{tag} {name}={value}>")
            if name == "style" and CSS_LOADS.search(v):
                self.found.append(f"<{tag} style={value}>")

    def handle_data(self, data: str) -> None:
        if self._in == "style" and CSS_LOADS.search(data):
            self.found.append("css load in <style>")


def external_loads(html: str) -> list[str]:
    p = _Loads()
    p.feed(html)
    return p.found


VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "line", "circle", "path"}


class _Balance(HTMLParser):
    """Every element that is opened is closed, in order (a broken table or an unclosed
    <details> would swallow the rest of the report)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def balanced(html: str) -> list[str]:
    b = _Balance()
    b.feed(html)
    return b.errors + [f"<{t}> never closed" for t in b.stack]


def flat(text: str) -> str:
    return " ".join(text.split())


def failing_run() -> tuple[SynthWorld, Snapshot, CheckResult]:
    w = SynthWorld()
    lost_capture_retried_with_new_key(w)
    w.fail_out_of_stock("ord-14")
    snap = w.snapshot(settle_seconds=30.0)
    return w, snap, check(snap)


def test_html_is_self_contained_with_timeline_and_violation(tmp_path: Path) -> None:
    _, snap, result = failing_run()
    html = render_html(result, View(snap), title="double charge")
    assert external_loads(html) == []
    assert balanced(html) == []
    assert "http://" not in html and "https://" not in html
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert '<svg id="timeline"' in html and 'class="band"' in html  # swimlanes with a fault band
    for lane in ("payment", "inventory", "shipping", "notify", "crm"):
        assert f">{lane}</text>" in html
    assert "double-charge" in html and "ord-12" in html
    assert "retried with a new Idempotency-Key" in html
    assert 'class="tk t2 bad"' in html  # the violating order's ticks are highlighted
    assert 'id="trace-ord-12" open' in html and 'id="trace-ord-13"' in html
    assert "Ledger diff" in html and "<script>" in html
    (tmp_path / "r.html").write_text(html)


def test_html_tells_an_order_flagged_by_several_rules_once() -> None:
    """A double charge also breaks completed-ledger: one block for the order, both rules in
    its heading and each rule's finding inside, its ledger rows and journal once (issue 18.6)."""
    _, snap, result = failing_run()
    html = render_html(result, View(snap))
    section = html[html.index("<h2>Violations"): html.index("<h2>Order traces")]
    assert section.count('<div class="viol"') == 1
    heading = re.search(r'<div class="viol"[^>]*><h3>(.*?)</h3>', section).group(1)  # type: ignore[union-attr]
    assert '<span class="rule">double-charge</span> <span class="rule">completed-ledger</span>' in heading
    assert 'data-o="ord-12"' in heading
    for rule in ("double-charge", "completed-ledger"):
        assert f'<div class="finding"><span class="rule">{rule}</span> order ord-12 ' in section
        assert f"<b>Ledger diff for {rule}</b>" in section
    assert section.count("<summary>Ledger rows (") == 1
    assert section.count("<summary>Journal lines (") == 1
    assert section.count("<code>ord-12:capture:retry-1</code>") == 1  # its journal line, once


def test_html_escapes_hostile_data() -> None:
    w = SynthWorld()
    w.order("<img src=//evil.example/x>")
    w.report("<img src=//evil.example/x>", "running")
    snap = w.snapshot()
    html = render_html(check(snap), View(snap))
    assert "<img" not in html and external_loads(html) == []
    assert external_loads(
        '<p><img src="//x.example/a.png"><link href="a.css"></p>'
    )  # the probe works


def test_large_run_timeline_is_sampled() -> None:
    w = SynthWorld(journal=True)
    for i in range(400):
        w.complete(f"ord-{i}")
    w.order("ord-bad")
    w.report("ord-bad", "running")
    snap = w.snapshot()
    from fracas.harness.report.timeline import render_timeline

    svg = render_timeline(View(snap), {"ord-bad"}, max_ticks=300)
    assert svg.count('class="tk') <= 300 and "sampled" in svg


def test_failure_text_leads_with_the_witness() -> None:
    w, snap, result = failing_run()
    text = failure_text(result, w.history.t0)
    first, rest = text.split("\n", 1)
    rest, text = flat(rest), flat(text)
    assert first.startswith(
        "fracas: 2 violation(s) over 3 orders: double-charge x1, completed-ledger x1"
    )
    assert rest.lstrip().startswith("order ord-12 was captured 2 times")
    assert "while payment was behind a timeout downstream toxic" in text
    # one order, two rules: one story, both rules in its heading (issue 18.6)
    assert "[double-charge, completed-ledger] order ord-12 (witness above)" in text
    assert "also [completed-ledger]: order ord-12 reported completed but net charge" in text
    assert "ledger diff for double-charge (expected -> actual): captures: 1 -> 2" in text
    assert text.count("journal:") == 1 and text.count("ledger rows:") == 1 and "+12." in text
    assert text.count("POST /payments 201 key=ord-12:capture:retry-1") == 1
    assert text.count("it reported the order completed") == 1  # the lead, told once


def test_failure_text_accepts_a_run_result() -> None:
    w, snap, result = failing_run()

    @dataclass
    class Run:
        verdict: CheckResult
        history: History

    assert failure_text(Run(result, w.history)) == failure_text(result, w.history.t0)
    assert failure_text(check(SynthWorld().snapshot())).startswith("fracas: consistent")


def test_json_report_round_trip(tmp_path: Path) -> None:
    _, snap, result = failing_run()
    report = build_report(
        result,
        snap,
        summary=summarize(snap),
        replay={"seed": 7, "schedule": []},
        include_snapshot=True,
    )
    path = write_json(tmp_path / "r.json", report)
    raw = json.loads(path.read_text())
    assert raw["ok"] is False and raw["replay"] == {"seed": 7, "schedule": []}
    assert {v["rule"] for v in raw["verdict"]["violations"]} == {
        "double-charge",
        "completed-ledger",
    }
    again = check(Snapshot.from_json(raw["snapshot"]))
    assert [v.to_json() for v in again.violations] == raw["verdict"]["violations"]
    assert CheckResult.from_json(raw["verdict"]).violations[0].rule == result.violations[0].rule


def test_resilience_summary() -> None:
    _, snap, _ = failing_run()
    s = summarize(snap)
    assert s["orders"] == 3 and s["outcomes"] == {"completed": 2, "failed": 1}
    capture = next(r for r in s["steps"] if r["step"] == "capture")
    assert capture["requests"] == 4 and capture["orders"] == 3 and capture["new_key_attempts"] == 1
    assert s["compensations"] == {
        "refunds": 1,
        "releases": 0,
        "cancellations": 0,
        "orders_compensated": 1,
    }
    cov = {(r["step"], r["fault"], r["phase"]) for r in s["fault_coverage"]}
    assert ("capture", "rule lost-capture (drop)", "after_commit") in cov
    assert ("capture", "a timeout downstream toxic (timeout=500)", "during") in cov
    settle = s["time_to_settle_s"]
    assert settle["n"] == 3
    assert settle["p50"] <= settle["p95"] <= settle["p99"] <= settle["max"]
    assert s["settled_after_last_heal_s"] is not None and s["settled_after_last_heal_s"] > 0


def test_summary_counts_same_key_retries() -> None:
    w = SynthWorld()
    w.order("o")
    pay = w.capture("o")
    w.replay("payment", "/payments", "o", pay["idempotency_key"], pay["payment_id"])
    w.replay("payment", "/payments", "o", pay["idempotency_key"], pay["payment_id"])
    w.report("o", "running")
    s = summarize(w.snapshot())
    capture = next(r for r in s["steps"] if r["step"] == "capture")
    assert (
        capture["retries_same_key"] == 2
        and capture["replayed"] == 2
        and capture["per_order_max"] == 3
    )
    assert s["requests"]["retries_per_order_max"] == 2
    assert s["most_retried"] == [{"order_id": "o", "requests": 4, "retries": 2}]


def test_write_reports_for_a_session(tmp_path: Path) -> None:
    w, snap, result = failing_run()

    @dataclass
    class Run:
        verdict: CheckResult
        snapshot: Snapshot
        history: History
        seed: int = 7

        def replay_json(self) -> dict[str, Any]:
            return {"seed": self.seed}

    runs = [
        ("test x[1]", Run(result, snap, w.history)),
        ("test x[1]", Run(result, snap, w.history)),
    ]
    index = write_reports(tmp_path, runs)
    text = index.read_text()
    assert 'href="test_x_1_.html"' in text and 'href="test_x_1_-2.html"' in text
    assert external_loads(text) == []
    raw = json.loads((tmp_path / "test_x_1_.json").read_text())
    assert raw["replay"] == {"seed": 7} and raw["meta"]["seed"] == 7


def test_http_rule_windows_count_only_where_they_fired() -> None:
    w = SynthWorld()
    rule = {
        "kind": "drop",
        "target": "payment",
        "params": {"path": "/payments", "method": "POST", "phase": "after_commit"},
    }
    f = w.history.fault_applied(rule, "payment")
    w.order("ord-a")
    w.lookup("ord-a")
    fired = {"rule_id": "fracas-drop-payment-1", "phase": "after_commit", "kind": "drop"}
    pay = w.capture("ord-a", fault=fired)
    w.replay("payment", "/payments", "ord-a", pay["idempotency_key"], pay["payment_id"])
    f.healed()
    res = w.reserve("ord-a")
    w.ship("ord-a", res)
    w.notify("ord-a", "order_confirmed")
    w.report("ord-a", "completed")
    snap = w.snapshot()
    cov = summarize(snap)["fault_coverage"]
    assert [(c["step"], c["phase"], c["requests"]) for c in cov] == [("capture", "after_commit", 1)]
    w.capture("ord-a", key="other")  # make a witness to read
    [v] = [v for v in check(w.snapshot()).violations if v.rule == "double-charge"]
    assert "behind" not in v.account and "lost to fault rule fracas-drop-payment-1" in v.account


def test_offline_recheck_cli(tmp_path: Path, capsys: Any) -> None:
    from fracas.harness.report.__main__ import main

    _, snap, result = failing_run()
    path = write_json(tmp_path / "r.json", build_report(result, snap, include_snapshot=True))
    assert main([str(path), "--html", str(tmp_path / "r.html")]) == 1
    out = capsys.readouterr().out
    assert out.startswith("fracas: 2 violation(s)") and (tmp_path / "r.html").exists()
    ok = SynthWorld()
    ok.complete("ord-a")
    (tmp_path / "s.json").write_text(json.dumps(ok.snapshot().to_json()))
    assert main([str(tmp_path / "s.json")]) == 0
    assert main([str(write_json(tmp_path / "n.json", build_report(result, snap)))]) == 2
