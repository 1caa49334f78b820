"""Contract §4 behaviour shared by all fakes: idempotency, correlation, the journal,
problem details for everything that is not a success, lists by order."""

from __future__ import annotations

import pytest

from fracas.fakes.world import OK_TOKEN
from tests.fakes.support import Fake

BODY = {"order_id": "ord-i", "amount_cents": 700, "currency": "EUR", "card_token": OK_TOKEN}


def test_idempotent_replay_makes_no_new_effect(payment: Fake) -> None:
    headers = {"Idempotency-Key": "ord-i:capture"}
    first = payment.http.post("/payments", json=BODY, headers=headers)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    # the same body with other key order and spacing is the same request
    again = payment.http.post(
        "/payments",
        content=b'{"card_token": "tok_ok_4242", "currency": "EUR", "amount_cents": 700,'
        b' "order_id": "ord-i"}',
        headers=headers,
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert len(payment.table("payments")) == 1
    journal = payment.journal()
    assert [e["replayed"] for e in journal] == [False, True]
    assert journal[1]["effect_id"] == first.json()["payment_id"]


def test_idempotency_key_reused_with_another_body(payment: Fake) -> None:
    headers = {"Idempotency-Key": "k"}
    assert payment.http.post("/payments", json=BODY, headers=headers).status_code == 201
    other = payment.http.post("/payments", json={**BODY, "amount_cents": 701}, headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "idempotency-key-reused"
    # another endpoint under the same key is another request too
    pid = payment.table("payments")[0]["payment_id"]
    refund = payment.http.post(
        f"/payments/{pid}/refunds", json={"amount_cents": 1}, headers=headers
    )
    assert refund.json()["type"] == "idempotency-key-reused"
    assert len(payment.table("payments")) == 1 and payment.table("refunds") == []


def test_business_errors_replay_too(payment: Fake) -> None:
    headers = {"Idempotency-Key": "declined"}
    body = {**BODY, "card_token": "tok_decline_x"}
    first = payment.http.post("/payments", json=body, headers=headers)
    again = payment.http.post("/payments", json=body, headers=headers)
    assert first.status_code == again.status_code == 402
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content


def test_no_key_means_a_new_effect_every_time(payment: Fake) -> None:
    for _ in range(3):
        assert payment.http.post("/payments", json=BODY).status_code == 201
    rows = payment.table("payments")
    assert len({r["payment_id"] for r in rows}) == 3
    assert all(r["idempotency_key"] is None for r in rows)


def test_keyed_release_and_cancel_replay(inventory: Fake, shipping: Fake) -> None:
    sku = inventory.table("stock")[-1]["sku"]
    res = inventory.http.post(
        "/reservations", json={"order_id": "o", "lines": [{"sku": sku, "qty": 1}]}
    ).json()
    h = {"Idempotency-Key": "o:release"}
    first = inventory.http.post(f"/reservations/{res['reservation_id']}/release", headers=h)
    again = inventory.http.post(f"/reservations/{res['reservation_id']}/release", headers=h)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"


def test_correlation_id_is_echoed_and_journaled(payment: Fake) -> None:
    response = payment.http.post(
        "/payments", json=BODY, headers={"X-Correlation-ID": "corr-1", "Idempotency-Key": "k1"}
    )
    assert response.headers["x-correlation-id"] == "corr-1"
    row = payment.table("payments")[0]
    assert row["correlation_id"] == "corr-1" and row["idempotency_key"] == "k1"
    missing = payment.http.get("/payments/nope", headers={"X-Correlation-ID": "corr-2"})
    assert missing.headers["x-correlation-id"] == "corr-2"
    entries = payment.journal()
    assert [e["correlation_id"] for e in entries] == ["corr-1", "corr-2"]


def test_journal_entries_and_cursor(payment: Fake) -> None:
    payment.http.post("/payments", json=BODY, headers={"Idempotency-Key": "k"})
    pid = payment.table("payments")[0]["payment_id"]
    payment.http.get(f"/payments/{pid}")
    payment.http.get("/payments", params={"order_id": "ord-i"})
    page = payment.http.get("/_fracas/journal", params={"since": 0}).json()
    entries = page["entries"]
    assert page["next"] == entries[-1]["seq"]
    first = entries[0]
    assert set(first) == {
        "seq", "t", "service", "method", "path", "query", "status", "order_id",
        "idempotency_key", "correlation_id", "replayed", "effect_id", "duration_ms", "fault",
    }  # fmt: skip
    assert first["service"] == "payment" and first["status"] == 201
    assert first["effect_id"] == pid and first["idempotency_key"] == "k"
    assert first["fault"] is None and first["order_id"] == "ord-i"
    # order_id comes from the body, the path's resource, or the query
    assert [e["order_id"] for e in entries] == ["ord-i", "ord-i", "ord-i"]
    assert entries[2]["query"] == "order_id=ord-i"
    rest = payment.http.get("/_fracas/journal", params={"since": entries[0]["seq"]}).json()
    assert [e["seq"] for e in rest["entries"]] == [e["seq"] for e in entries[1:]]
    empty = payment.http.get("/_fracas/journal", params={"since": page["next"]}).json()
    assert empty == {"entries": [], "next": page["next"]}


def test_journal_cursor_survives_reset(payment: Fake) -> None:
    payment.http.get("/payments")
    last = payment.journal()[-1]["seq"]
    payment.reset()
    assert payment.journal() == []
    payment.http.get("/payments")
    assert payment.journal(since=last)[0]["seq"] > last


@pytest.mark.parametrize(
    ("method", "path", "status", "type_"),
    [
        ("GET", "/nowhere", 404, "not-found"),
        ("DELETE", "/payments", 405, "method-not-allowed"),
        ("PUT", "/payments/pay-1/refunds", 405, "method-not-allowed"),
    ],
)
def test_unknown_routes_are_problems(
    payment: Fake, method: str, path: str, status: int, type_: str
) -> None:
    response = payment.http.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == type_
    if status == 405:
        assert "POST" in response.headers["allow"] or "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"[1, 2", b"\xff\xfe", b'"just a string"', b"null", b"[]", b"12"]
)
def test_bad_bodies_never_give_5xx(payment: Fake, raw: bytes) -> None:
    response = payment.http.post("/payments", content=raw)
    assert response.status_code in (400, 422), response.text
    expected = "malformed-request" if response.status_code == 400 else "invalid-request"
    assert response.json()["type"] == expected


def test_lone_surrogates_are_invalid_not_a_crash(payment: Fake) -> None:
    raw = b'{"order_id": "\\ud800", "amount_cents": 1, "currency": "EUR", "card_token": "tok_x"}'
    response = payment.http.post("/payments", content=raw)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "order_id"


def test_every_list_filters_by_order(fakes: dict[str, Fake]) -> None:
    for name, path in [
        ("payment", "/payments"),
        ("inventory", "/reservations"),
        ("shipping", "/shipments"),
        ("notify", "/messages"),
    ]:
        response = fakes[name].http.get(path, params={"order_id": "no-such-order"})
        assert response.status_code == 200 and response.json() == [], name


def test_openapi_and_health(fakes: dict[str, Fake]) -> None:
    for name, fake in fakes.items():
        assert fake.http.get("/healthz").status_code == 200
        doc = fake.http.get("/openapi.json").json()
        assert doc["openapi"].startswith("3.") and doc["paths"], name
        assert not any(p.startswith("/_fracas") for p in doc["paths"])


def test_world_endpoint_names_the_edge_cases(crm: Fake) -> None:
    summary = crm.http.get("/_fracas/world").json()
    assert summary["seed"] == 7 and summary["blocked_customers"]
    assert summary["decline_token"].startswith("tok_decline")


def test_deeply_nested_and_huge_bodies(payment: Fake) -> None:
    deep = payment.http.post("/payments", content=b"[" * 100_000 + b"]" * 100_000)
    assert deep.status_code == 400 and deep.json()["type"] == "malformed-request"
    huge = payment.http.post("/payments", content=b" " * (2 << 20))
    assert huge.status_code == 413
    assert huge.headers["content-type"] == "application/problem+json"
    assert payment.http.get("/healthz").status_code == 200


def test_admin_errors_are_problems(payment: Fake) -> None:
    bad = payment.http.get("/_fracas/journal", params={"since": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"
    assert payment.http.get("/_fracas/held", params={"wait": "-1"}).status_code == 422
    unknown = payment.http.get("/_fracas/nothing")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    for _ in range(3):
        payment.http.get("/payments")
    page = payment.http.get("/_fracas/journal", params={"since": 0, "limit": 2}).json()
    assert len(page["entries"]) == 2 and page["next"] == page["entries"][-1]["seq"]
