"""Every public endpoint of the five fakes: its success and its error answers."""

from __future__ import annotations

from typing import Any

from fracas.fakes.world import DECLINE_TOKEN, OK_TOKEN, build_world
from tests.fakes.support import SEED, Fake

WORLD = build_world(SEED)
PROBLEM = "application/problem+json"


def capture(fake: Fake, order_id: str = "ord-1", amount: int = 1000, **extra: Any) -> Any:
    body = {"order_id": order_id, "amount_cents": amount, "currency": "EUR", "card_token": OK_TOKEN}
    return fake.http.post("/payments", json={**body, **extra})


def assert_problem(response: Any, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == type_ and body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    return dict(body)


# -- crm ---------------------------------------------------------------------------------
def test_crm_customer(crm: Fake) -> None:
    customer = WORLD.customers[0]
    response = crm.http.get(f"/customers/{customer.customer_id}")
    assert response.status_code == 200
    assert response.json() == customer.as_dict()


def test_crm_edge_customers_are_served(crm: Fake) -> None:
    blocked = WORLD.blocked_customers()[0]
    risky = WORLD.high_risk_customers()[0]
    assert crm.http.get(f"/customers/{blocked.customer_id}").json()["status"] == "blocked"
    assert crm.http.get(f"/customers/{risky.customer_id}").json()["risk"] == "high"


def test_crm_unknown_customer(crm: Fake) -> None:
    assert_problem(crm.http.get("/customers/cus-9999"), 404, "not-found")


# -- payment -----------------------------------------------------------------------------
def test_payment_capture_get_and_list(payment: Fake) -> None:
    response = capture(payment, "ord-a", 1500)
    assert response.status_code == 201
    created = response.json()
    assert created == {
        "payment_id": created["payment_id"],
        "order_id": "ord-a",
        "amount_cents": 1500,
        "currency": "EUR",
        "status": "captured",
        "refunded_cents": 0,
    }
    capture(payment, "ord-b", 10)
    assert payment.http.get(f"/payments/{created['payment_id']}").json() == created
    listed = payment.http.get("/payments", params={"order_id": "ord-a"}).json()
    assert listed == [created]
    assert len(payment.http.get("/payments").json()) == 2


def test_payment_declined_card_makes_no_effect(payment: Fake) -> None:
    response = capture(payment, card_token=DECLINE_TOKEN)
    assert_problem(response, 402, "card-declined")
    assert payment.table("payments") == []


def test_payment_unknown_id(payment: Fake) -> None:
    assert_problem(payment.http.get("/payments/pay-9999"), 404, "not-found")
    response = payment.http.post("/payments/pay-9999/refunds", json={"amount_cents": 1})
    assert_problem(response, 404, "not-found")


def test_payment_refunds_up_to_the_capture(payment: Fake) -> None:
    pid = capture(payment, amount=1000).json()["payment_id"]
    first = payment.http.post(f"/payments/{pid}/refunds", json={"amount_cents": 600})
    assert first.status_code == 201
    assert first.json()["amount_cents"] == 600 and first.json()["payment_id"] == pid
    too_much = payment.http.post(f"/payments/{pid}/refunds", json={"amount_cents": 401})
    assert_problem(too_much, 409, "refund-exceeds-capture")
    rest = payment.http.post(f"/payments/{pid}/refunds", json={"amount_cents": 400})
    assert rest.status_code == 201
    assert payment.http.get(f"/payments/{pid}").json()["refunded_cents"] == 1000
    refunds = payment.table("refunds")
    assert [r["amount_cents"] for r in refunds] == [600, 400]
    assert all(r["order_id"] == "ord-1" for r in refunds)


def test_payment_invalid_bodies(payment: Fake) -> None:
    bad = payment.http.post("/payments", json={"order_id": 5, "amount_cents": 0, "currency": "eur"})
    body = assert_problem(bad, 422, "invalid-request")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"order_id", "amount_cents", "currency", "card_token"}
    assert "amount_cents" in body["detail"]
    not_tok = capture(payment, card_token="visa-4242")
    assert_problem(not_tok, 422, "invalid-request")
    broken = payment.http.post("/payments", content=b'{"order_id": ')
    assert_problem(broken, 400, "malformed-request")
    neg = payment.http.post("/payments/pay-0001/refunds", json={"amount_cents": -5})
    assert_problem(neg, 422, "invalid-request")
    assert payment.table("payments") == []


# -- inventory ---------------------------------------------------------------------------
def test_inventory_stock(inventory: Fake) -> None:
    sku = WORLD.stocked_skus()[0]
    assert inventory.http.get(f"/stock/{sku.sku}").json() == {
        "sku": sku.sku,
        "on_hand": sku.on_hand,
        "held": 0,
    }
    assert_problem(inventory.http.get("/stock/SKU-9999"), 404, "not-found")


def test_inventory_reserve_and_release(inventory: Fake) -> None:
    a, b = WORLD.stocked_skus()[:2]
    lines = [{"sku": a.sku, "qty": 2}, {"sku": b.sku, "qty": 1}]
    response = inventory.http.post("/reservations", json={"order_id": "ord-r", "lines": lines})
    assert response.status_code == 201
    res = response.json()
    assert res["order_id"] == "ord-r" and res["lines"] == lines and res["status"] == "held"
    assert inventory.http.get(f"/stock/{a.sku}").json() == {
        "sku": a.sku,
        "on_hand": a.on_hand - 2,
        "held": 2,
    }
    rid = res["reservation_id"]
    assert inventory.http.get(f"/reservations/{rid}").json() == res
    assert inventory.http.get("/reservations", params={"order_id": "ord-r"}).json() == [res]
    assert inventory.http.get("/reservations", params={"order_id": "other"}).json() == []
    for _ in range(2):  # releasing again is a no-op that still answers 200
        released = inventory.http.post(f"/reservations/{rid}/release")
        assert released.status_code == 200 and released.json()["status"] == "released"
    stock = {row["sku"]: row for row in inventory.table("stock")}
    assert stock[a.sku]["on_hand"] == a.on_hand and stock[a.sku]["held"] == 0
    row = inventory.table("reservations")[0]
    assert row["status"] == "released" and row["released_at"] is not None


def test_inventory_out_of_stock_holds_nothing(inventory: Fake) -> None:
    low = WORLD.low_stock_skus()[0]
    ok = WORLD.stocked_skus()[0]
    lines = [{"sku": ok.sku, "qty": 1}, {"sku": low.sku, "qty": low.on_hand + 1}]
    response = inventory.http.post("/reservations", json={"order_id": "o", "lines": lines})
    assert_problem(response, 409, "out-of-stock")
    stock = {row["sku"]: row for row in inventory.table("stock")}
    assert stock[ok.sku]["held"] == 0 and stock[low.sku]["held"] == 0
    assert inventory.table("reservations") == []


def test_inventory_unknown_sku_and_bad_lines(inventory: Fake) -> None:
    unknown = inventory.http.post(
        "/reservations", json={"order_id": "o", "lines": [{"sku": "SKU-9999", "qty": 1}]}
    )
    body = assert_problem(unknown, 422, "unknown-sku")
    assert body["errors"][0]["field"] == "lines[0].sku"
    bad = inventory.http.post("/reservations", json={"order_id": "o", "lines": [{"qty": 0}]})
    fields = {e["field"] for e in assert_problem(bad, 422, "invalid-request")["errors"]}
    assert fields == {"lines[0].sku", "lines[0].qty"}
    empty = inventory.http.post("/reservations", json={"order_id": "o", "lines": []})
    assert_problem(empty, 422, "invalid-request")
    assert_problem(inventory.http.post("/reservations/res-9999/release"), 404, "not-found")
    assert_problem(inventory.http.get("/reservations/res-9999"), 404, "not-found")


# -- shipping ----------------------------------------------------------------------------
def test_shipping_quote_is_the_pure_function(shipping: Fake) -> None:
    skus = WORLD.stocked_skus()[:3]
    lines = [{"sku": s.sku, "qty": i + 1, "unit_price_cents": 5} for i, s in enumerate(skus)]
    for country in ("DE", "AQ", "ZZ"):
        address = {"line1": "x", "city": "y", "postcode": "1", "country": country}
        response = shipping.http.post("/quotes", json={"address": address, "lines": lines})
        assert response.status_code == 200, response.text
        assert response.json()["amount_cents"] == WORLD.quote_cents(country, lines)
        assert response.json()["quote_id"].startswith("quo-")
    assert shipping.table("shipments") == []


def test_shipping_quote_errors(shipping: Fake) -> None:
    bad = shipping.http.post("/quotes", json={"address": {}, "lines": [{"sku": "SKU-0001"}]})
    fields = {e["field"] for e in assert_problem(bad, 422, "invalid-request")["errors"]}
    assert fields == {"address.country", "lines[0].qty"}
    unknown = shipping.http.post(
        "/quotes", json={"address": {"country": "DE"}, "lines": [{"sku": "nope", "qty": 1}]}
    )
    assert_problem(unknown, 422, "unknown-sku")


def test_shipping_create_get_list_cancel(shipping: Fake) -> None:
    customer = WORLD.ordinary_customers()[0]
    body = {
        "order_id": "ord-s",
        "reservation_id": "res-0001",
        "address": customer.address.as_dict(),
    }
    response = shipping.http.post("/shipments", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "created" and created["tracking_number"]
    sid = created["shipment_id"]
    assert shipping.http.get(f"/shipments/{sid}").json() == created
    assert shipping.http.get("/shipments", params={"order_id": "ord-s"}).json() == [created]
    for _ in range(2):
        cancelled = shipping.http.post(f"/shipments/{sid}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    row = shipping.table("shipments")[0]
    assert row["address"] == customer.address.as_dict() and row["cancelled_at"] is not None
    assert_problem(shipping.http.post("/shipments/shp-9999/cancel"), 404, "not-found")
    assert_problem(shipping.http.get("/shipments/shp-9999"), 404, "not-found")


def test_shipping_undeliverable(shipping: Fake) -> None:
    for customer in WORLD.undeliverable_customers():
        body = {"order_id": "o", "reservation_id": "r", "address": customer.address.as_dict()}
        assert_problem(shipping.http.post("/shipments", json=body), 422, "undeliverable")
    assert shipping.table("shipments") == []


# -- notify ------------------------------------------------------------------------------
def test_notify_send_and_list(notify: Fake) -> None:
    body = {"order_id": "ord-n", "customer_id": "cus-0001", "template": "order_confirmed"}
    response = notify.http.post("/messages", json=body)
    assert response.status_code == 201
    mid = response.json()["message_id"]
    assert notify.http.get(f"/messages/{mid}").json() == {"message_id": mid, **body}
    assert notify.http.get("/messages", params={"order_id": "ord-n"}).json() == [
        {"message_id": mid, **body}
    ]
    assert notify.http.get("/messages", params={"order_id": "x"}).json() == []
    assert_problem(notify.http.get("/messages/msg-9999"), 404, "not-found")


def test_notify_rejects_unknown_template(notify: Fake) -> None:
    body = {"order_id": "o", "customer_id": "c", "template": "order_maybe"}
    err = assert_problem(notify.http.post("/messages", json=body), 422, "invalid-request")
    assert err["errors"] == [
        {"field": "template", "message": "expected one of order_confirmed, order_failed"}
    ]
