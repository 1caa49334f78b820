"""Schemathesis against the bundled orchestrator's /openapi.json (issue 21): generated
requests, valid and invalid, on every operation, never get a 5xx or an answer the
document does not describe; and regressions for what the fuzzer found."""

from __future__ import annotations

from collections.abc import Callable

from orch_helpers import Orchestrator

from tests.fuzzing import fuzz


def test_every_operation_answers_as_documented(
    start_orchestrator: Callable[..., Orchestrator],
) -> None:
    orch = start_orchestrator()
    result = fuzz(orch.url, examples=8)
    assert result.operations == 11  # with GET /_admin/outbox (the event side)
    assert result.findings == []
    assert {200, 202, 404, 422} <= set(result.statuses), result.statuses


def test_the_clock_refuses_nan_and_infinity(orch: Orchestrator) -> None:
    # Found by the fuzzer: json.loads reads NaN and Infinity, and a clock advanced by
    # either made every later answer that shows the time a 500 (unencodable JSON).
    for raw in (b'{"seconds": NaN}', b'{"seconds": Infinity}', b'{"seconds": 1e300}'):
        r = orch.http.post("/_admin/clock/advance", content=raw)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "seconds"
    assert orch.http.get("/_admin/clock").status_code == 200


def test_an_order_id_with_a_trailing_newline_is_refused(orch: Orchestrator) -> None:
    # ``$`` in a Python regex also matches before a final newline.
    body = {
        "order_id": "ord-1\n", "customer_id": "cus-0001", "currency": "EUR",
        "card_token": "tok_ok", "lines": [{"sku": "SKU-0001", "qty": 1, "unit_price_cents": 1}],
    }  # fmt: skip
    r = orch.http.post("/orders", json=body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["order_id"]
