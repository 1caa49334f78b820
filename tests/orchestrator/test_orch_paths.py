"""Every saga path against the real fakes: no mocks, the ledgers are the judge."""

from __future__ import annotations

from orch_helpers import (
    DECLINE_TOKEN,
    Orchestrator,
    assert_consistent,
    judge,
    ledgers,
    line,
    order,
    rows,
    the_world,
)

W = the_world()
ORDINARY = W.ordinary_customers()[0]
STOCKED = W.stocked_skus(40)[0]
HIGH_RISK = next(c for c in W.high_risk_customers() if W.served(c.address.country))


def run_one(orch: Orchestrator, body: dict, status: str) -> dict:
    r = orch.submit(body)
    assert r.status_code == 202, r.text
    assert r.json() == {"order_id": body["order_id"], "status": "pending"} or r.json()[
        "status"
    ] in ("pending", "running")
    view = orch.wait_status(body["order_id"], {"completed", "failed", "needs_attention"})
    assert view["status"] == status, view
    assert_consistent(judge(orch, [body]))
    return view


def test_happy_path(orch: Orchestrator) -> None:
    body = order("happy-1", ORDINARY.customer_id, [line(STOCKED.sku, 2, 1999)])
    view = run_one(orch, body, "completed")
    assert view["payment_id"] and view["reservation_id"] and view["shipment_id"]
    state = ledgers(orch.fakes)
    (payment,) = rows(state["payment"], "payments", "happy-1")
    quote = W.quote_cents(ORDINARY.address.country, body["lines"])
    assert payment["amount_cents"] == 2 * 1999 + quote
    assert payment["idempotency_key"] == "happy-1:capture"
    assert payment["correlation_id"] == "happy-1"
    (message,) = rows(state["notify"], "messages", "happy-1")
    assert message["template"] == "order_confirmed"
    events = orch.http.get("/orders/happy-1/events").json()["events"]
    assert [e["step"] for e in events if e["outcome"] == "ok"] == [
        "customer", "quote", "capture", "reserve", "ship",
    ]  # fmt: skip


def test_blocked_customer_fails_with_nothing_done(orch: Orchestrator) -> None:
    blocked = W.blocked_customers()[0]
    body = order("blocked-1", blocked.customer_id, [line(STOCKED.sku)])
    view = run_one(orch, body, "failed")
    assert view["reason"] == "customer-blocked"
    state = ledgers(orch.fakes)
    assert rows(state["payment"], "payments", "blocked-1") == []
    assert rows(state["inventory"], "reservations", "blocked-1") == []
    assert [m["template"] for m in rows(state["notify"], "messages", "blocked-1")] == [
        "order_failed"
    ]


def test_unknown_customer_fails_without_message(orch: Orchestrator) -> None:
    body = order("nobody-1", "cus-9999", [line(STOCKED.sku)])
    view = run_one(orch, body, "failed")
    assert "not-found" in view["reason"]
    assert rows(ledgers(orch.fakes)["notify"], "messages", "nobody-1") == []


def test_declined_card(orch: Orchestrator) -> None:
    body = order("declined-1", ORDINARY.customer_id, [line(STOCKED.sku)], DECLINE_TOKEN)
    view = run_one(orch, body, "failed")
    assert view["reason"] == "card-declined"
    state = ledgers(orch.fakes)
    assert rows(state["payment"], "payments", "declined-1") == []
    assert rows(state["inventory"], "reservations", "declined-1") == []


def test_out_of_stock_refunds(orch: Orchestrator) -> None:
    empty = next(s for s in W.skus if s.on_hand == 0)
    body = order("oos-1", ORDINARY.customer_id, [line(STOCKED.sku), line(empty.sku, 1)])
    view = run_one(orch, body, "failed")
    assert view["reason"] == "out-of-stock"
    state = ledgers(orch.fakes)
    (payment,) = rows(state["payment"], "payments", "oos-1")
    assert payment["refunded_cents"] == payment["amount_cents"]
    assert rows(state["inventory"], "reservations", "oos-1") == []


def test_undeliverable_releases_and_refunds(orch: Orchestrator) -> None:
    far = next(c for c in W.undeliverable_customers() if c.risk == "low")
    body = order("far-1", far.customer_id, [line(STOCKED.sku, 3)])
    view = run_one(orch, body, "failed")
    assert view["reason"] == "undeliverable"
    state = ledgers(orch.fakes)
    (payment,) = rows(state["payment"], "payments", "far-1")
    assert payment["refunded_cents"] == payment["amount_cents"]
    (reservation,) = rows(state["inventory"], "reservations", "far-1")
    assert reservation["status"] == "released"
    assert rows(state["shipping"], "shipments", "far-1") == []


def test_review_approve(orch: Orchestrator) -> None:
    body = order("review-ok", HIGH_RISK.customer_id, [line(STOCKED.sku)])
    assert orch.submit(body).status_code == 202
    orch.wait_status("review-ok", {"awaiting_review"})
    assert rows(ledgers(orch.fakes)["payment"], "payments", "review-ok") == []
    waiting = orch.http.get("/orders", params={"status": "awaiting_review"}).json()
    assert [o["order_id"] for o in waiting["orders"]] == ["review-ok"]
    r = orch.review("review-ok", "approve")
    assert r.status_code == 200, r.text
    assert orch.review("review-ok", "approve").status_code == 409
    assert orch.wait_status("review-ok", {"completed"})
    assert_consistent(judge(orch, [body]))


def test_review_reject(orch: Orchestrator) -> None:
    body = order("review-no", HIGH_RISK.customer_id, [line(STOCKED.sku)])
    orch.submit(body)
    orch.wait_status("review-no", {"awaiting_review"})
    assert orch.review("review-no", "reject").status_code == 200
    view = orch.wait_status("review-no", {"failed"})
    assert view["reason"] == "review-rejected"
    assert orch.review("review-no", "approve").status_code == 409
    assert_consistent(judge(orch, [body]))


def test_review_timeout_with_test_clock(orch: Orchestrator) -> None:
    body = order("review-late", HIGH_RISK.customer_id, [line(STOCKED.sku)])
    orch.submit(body)
    orch.wait_status("review-late", {"awaiting_review"})
    assert orch.advance(47 * 3600).status_code == 200
    assert orch.get("review-late")["status"] == "awaiting_review"
    r = orch.advance(3600 + 1)
    assert r.json()["expired_reviews"] == 1
    view = orch.wait_status("review-late", {"failed"})
    assert view["reason"] == "review-timeout"
    assert_consistent(judge(orch, [body]))


def test_review_deadline_survives_a_restart(orch: Orchestrator) -> None:
    body = order("review-crash", HIGH_RISK.customer_id, [line(STOCKED.sku)])
    orch.submit(body)
    orch.wait_status("review-crash", {"awaiting_review"})
    orch.advance(40 * 3600)
    orch.crash_restart()
    assert orch.get("review-crash")["status"] == "awaiting_review"
    orch.advance(9 * 3600)
    assert orch.wait_status("review-crash", {"failed"})["reason"] == "review-timeout"


def test_api_input_errors_are_problems(orch: Orchestrator) -> None:
    r = orch.http.post("/orders", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "malformed-request"
    r = orch.submit({"order_id": "x", "lines": [{"sku": "S", "qty": 0}]})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"customer_id", "currency", "card_token", "lines[0].qty"} <= fields
    assert orch.submit([1, 2]).status_code == 422
    assert orch.submit({**order("q", "c", []), "lines": "x"}).status_code == 422
    assert orch.http.get("/orders/nope").status_code == 404
    assert orch.review("nope", "approve").status_code == 404
    assert orch.http.post("/orders/nope/review", json={"decision": "maybe"}).status_code == 422
    assert orch.http.get("/orders", params={"status": "bogus"}).status_code == 422
    assert orch.http.delete("/orders").status_code == 405
    deep = b"[" * 100_000 + b"]" * 100_000
    assert orch.http.post("/orders", content=deep).status_code == 400
    assert orch.http.post("/orders", content=b"\xff\xfe").status_code == 400
    assert orch.http.get("/orders/x", params={"wait": "nan"}).status_code == 422
    assert orch.http.post("/_admin/clock/advance", json={"seconds": -1}).status_code == 422
    assert orch.http.post("/_admin/orders/nope/resume").status_code == 404


def test_idempotent_submit(orch: Orchestrator) -> None:
    body = order("idem-1", ORDINARY.customer_id, [line(STOCKED.sku)])
    assert orch.submit(body).status_code == 202
    again = orch.submit(body)
    assert again.status_code == 200 and again.json()["order_id"] == "idem-1"
    other = orch.submit({**body, "currency": "USD"})
    assert other.status_code == 409 and other.json()["type"] == "order-conflict"
    orch.wait_status("idem-1", {"completed"})
    assert orch.submit(body).json()["status"] == "completed"
    assert orch.review("idem-1", "approve").status_code == 409
    assert_consistent(judge(orch, [body]))


def test_metrics_and_listing(orch: Orchestrator) -> None:
    body = order("metrics-1", ORDINARY.customer_id, [line(STOCKED.sku)])
    orch.submit(body)
    orch.wait_status("metrics-1", {"completed"})
    text = orch.http.get("/metrics").text
    assert 'fracas_orders{status="completed"} 1' in text
    assert "fracas_step_duration_seconds_bucket" in text
    assert "fracas_retries_total" in text and "fracas_compensations_total" in text
    listed = orch.http.get("/orders", params={"status": "completed"}).json()
    assert listed["count"] == 1
