"""Pure pieces: order validation, configuration precedence, the clock, metrics text."""

from __future__ import annotations

from pathlib import Path

import pytest

from fracas.orchestrator import validate
from fracas.orchestrator.clock import Clock
from fracas.orchestrator.config import load_config
from fracas.orchestrator.metrics import Metrics
from fracas.orchestrator.state import idempotency_key

URLS = {f"FRACAS_{s.upper()}_URL": f"http://{s}:1" for s in
        ("crm", "payment", "inventory", "shipping", "notify")}  # fmt: skip
GOOD = {
    "order_id": "ord-1", "customer_id": "cus-0001", "currency": "EUR",
    "card_token": "tok_ok", "lines": [{"sku": "SKU-0001", "qty": 2, "unit_price_cents": 5}],
}  # fmt: skip


def test_valid_order_is_normalised() -> None:
    order, errors = validate.order({**GOOD, "extra": 1})
    assert errors == [] and order == GOOD


@pytest.mark.parametrize(
    "change,field",
    [
        ({"order_id": ""}, "order_id"),
        ({"order_id": "a/b"}, "order_id"),
        ({"customer_id": 3}, "customer_id"),
        ({"currency": "eur"}, "currency"),
        ({"card_token": ""}, "card_token"),
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "S", "qty": True, "unit_price_cents": 1}]}, "lines[0].qty"),
        ({"lines": [{"sku": "S", "qty": 1, "unit_price_cents": -1}]}, "lines[0].unit_price_cents"),
        ({"lines": [{"qty": 1, "unit_price_cents": 1}]}, "lines[0].sku"),
        ({"lines": ["x"]}, "lines[0]"),
    ],
)
def test_invalid_orders_name_the_field(change: dict, field: str) -> None:
    order, errors = validate.order({**GOOD, **change})
    assert order is None and field in {e["field"] for e in errors}


def test_listing_accepts_bare_lists_and_wrapped_lists() -> None:
    assert validate.listing([{"a": 1}], "payments") == [{"a": 1}]
    assert validate.listing({"payments": [{"a": 1}]}, "payments") == [{"a": 1}]
    assert validate.listing({"items": [{"a": 1}]}, "payments") == [{"a": 1}]
    assert validate.listing({"a": 1}, "payments") is None
    assert validate.listing([1], "payments") is None


def test_customer_and_shipment_shapes() -> None:
    ok = {"customer_id": "c", "status": "active", "risk": "low", "address": {"country": "DE"}}
    assert validate.customer(ok) is None
    assert validate.customer({**ok, "risk": "medium"})
    assert validate.customer({**ok, "address": "DE"})
    assert validate.shipment({"shipment_id": "s", "tracking_number": "t", "status": "created"}) is None
    assert validate.shipment({"shipment_id": 1, "tracking_number": "t", "status": "created"})


def test_config_precedence_profile_env_flags(tmp_path: Path) -> None:
    env = {**URLS, "FRACAS_PROFILE": "fast", "FRACAS_RETRY_BUDGET": "9",
           "FRACAS_STATE_DIR": str(tmp_path)}  # fmt: skip
    cfg = load_config([], env)
    assert cfg.profile == "fast" and cfg.backoff_cap == 0.25 and cfg.retry_budget == 9.0
    assert cfg.state_dir == tmp_path and not cfg.test_clock
    cfg = load_config(["--retry-budget", "3", "--test-clock", "--listen", "127.0.0.1:9"], env)
    assert cfg.retry_budget == 3.0 and cfg.test_clock and cfg.listen == "127.0.0.1:9"
    assert load_config([], {**URLS}).review_timeout == 48 * 3600


def test_config_requires_every_url() -> None:
    with pytest.raises(SystemExit, match="FRACAS_NOTIFY_URL"):
        load_config([], {k: v for k, v in URLS.items() if "NOTIFY" not in k})


def test_clock_only_advances_in_test_mode() -> None:
    woken: list[int] = []
    clock = Clock(adjustable=True)
    clock.on_advance(lambda: woken.append(1))
    before = clock.now()
    assert clock.advance(3600) >= before + 3600 and woken == [1]
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(PermissionError):
        Clock().advance(1)


def test_keys_are_stable_per_order_and_purpose() -> None:
    assert idempotency_key("o1", "capture") == "o1:capture"
    assert idempotency_key("o1", "notify:order_failed") != idempotency_key("o1", "notify:order_confirmed")


def test_metrics_render_prometheus_text() -> None:
    m = Metrics()
    m.step("capture", "ok", 0.02)
    m.retry("payment", "capture", "timeout")
    m.compensation("comp:refund", "ok")
    text = m.render({"completed": 2})
    assert 'fracas_orders{status="completed"} 2' in text
    assert 'fracas_step_duration_seconds_bucket{step="capture",outcome="ok",le="0.025"} 1' in text
    assert 'fracas_step_duration_seconds_count{step="capture",outcome="ok"} 1' in text
    assert 'fracas_retries_total{service="payment",step="capture",reason="timeout"} 1' in text
    assert 'fracas_compensations_total{step="comp:refund",outcome="ok"} 1' in text


def test_the_event_side_is_off_unless_asked_for_and_then_needs_a_broker() -> None:
    """A broker URL in the environment alone changes nothing (a hybrid's harness sets it
    for every process); --events turns it on, and without a broker it says so."""
    urls = {f"FRACAS_{s.upper()}_URL": "http://x" for s in
            ("crm", "payment", "inventory", "shipping", "notify")}
    plain = load_config([], env={**urls, "FRACAS_BROKER_URL": "nats://h:1"})
    assert (plain.events, plain.broker_url, plain.bugs) == (False, None, frozenset())
    with pytest.raises(SystemExit, match="--events needs a broker"):
        load_config(["--events"], env=urls)
    on = load_config(["--events", "--bug", "events-no-outbox"],
                     env={**urls, "FRACAS_BROKER_URL": "nats://h:1"})
    assert (on.events, on.broker_url, on.bugs) == (True, "nats://h:1",
                                                   frozenset({"events-no-outbox"}))
    env = {**urls, "FRACAS_EVENTS": "1", "FRACAS_BROKER_URL": "nats://h:1",
           "FRACAS_BUG": "events-no-outbox"}
    assert load_config([], env=env).bugs == frozenset({"events-no-outbox"})
    with pytest.raises(SystemExit, match="unknown bug"):
        load_config([], env={**env, "FRACAS_BUG": "typo"})
