"""Reports of a checked run: JSON for machines, text for pytest, one HTML file for people."""

from fracas.harness.report.html import render_html, write_html
from fracas.harness.report.json_report import build_report, write_json
from fracas.harness.report.text import ConsistencyError, failure_text, raise_if_violated

__all__ = [
    "ConsistencyError",
    "build_report",
    "failure_text",
    "raise_if_violated",
    "render_html",
    "write_html",
    "write_json",
]
