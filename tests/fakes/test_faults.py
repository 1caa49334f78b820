"""Fault rules against a real payment process: every action in both phases, matching,
hold/release, and the admin API around them."""

from __future__ import annotations

import socket
import statistics
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from fracas.fakes.world import OK_TOKEN
from fracas.harness.kit.waiting import wait_until
from tests.fakes.support import Fake

BODY = {"order_id": "ord-f", "amount_cents": 500, "currency": "EUR", "card_token": OK_TOKEN}
PHASES = ("before_commit", "after_commit")


def rule(phase: str, action: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "r1",
        "match": {"method": "POST", "path": "/payments"},
        "phase": phase,
        "action": action,
        **extra,
    }


def post(fake: Fake, body: dict[str, Any] = BODY, **kw: Any) -> httpx.Response:
    with fake.fresh() as client:
        return client.post("/payments", json=body, **kw)


def effects(fake: Fake) -> int:
    return len(fake.table("payments"))


def fault_of_last(fake: Fake) -> dict[str, Any]:
    return dict(fake.journal()[-1]["fault"])


@pytest.mark.parametrize("phase", PHASES)
def test_status(payment: Fake, phase: str) -> None:
    payment.faults(rule(phase, {"kind": "status", "status": 503, "retry_after": 2}, times=1))
    response = post(payment)
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == "application/problem+json"
    assert effects(payment) == (1 if phase == "after_commit" else 0)
    entry = payment.journal()[-1]
    assert entry["fault"] == {"rule_id": "r1", "phase": phase, "kind": "status", "status": 503}
    assert entry["status"] == (201 if phase == "after_commit" else 503)
    assert post(payment).status_code == 201  # times: 1 retired the rule


@pytest.mark.parametrize("phase", PHASES)
def test_drop_closes_without_an_answer(payment: Fake, phase: str) -> None:
    payment.faults(rule(phase, {"kind": "drop"}, times=1))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        post(payment)
    # an after_commit drop leaves the effect in the ledger and nothing at the client
    assert effects(payment) == (1 if phase == "after_commit" else 0)
    assert fault_of_last(payment)["kind"] == "drop"


def raw_post(fake: Fake) -> bytes:
    """POST over a bare socket: what exactly comes back (b'' for a clean close)."""
    body = httpx.Request("POST", f"{fake.url}/payments", json=BODY)
    payload = body.read()
    head = (
        f"POST /payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", fake.process.port), timeout=10) as sock:
        sock.sendall(head + payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize("phase", PHASES)
def test_drop_seen_from_a_raw_socket(payment: Fake, phase: str) -> None:
    payment.faults(rule(phase, {"kind": "drop"}))
    assert raw_post(payment) == b""


@pytest.mark.parametrize("phase", PHASES)
def test_reset_is_a_tcp_rst(payment: Fake, phase: str) -> None:
    payment.faults(rule(phase, {"kind": "reset"}))
    with pytest.raises(ConnectionResetError):
        raw_post(payment)
    with pytest.raises(httpx.ReadError):
        post(payment)
    assert effects(payment) == (2 if phase == "after_commit" else 0)


@pytest.mark.parametrize("phase", PHASES)
def test_delay(payment: Fake, phase: str) -> None:
    payment.faults(rule(phase, {"kind": "delay", "ms": 300}))
    started = time.monotonic()
    response = post(payment)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201  # the real answer, late
    assert effects(payment) == 1
    assert fault_of_last(payment) == {"rule_id": "r1", "phase": phase, "kind": "delay", "ms": 300}


def test_after_commit_delay_commits_before_answering(payment: Fake) -> None:
    payment.faults(rule("after_commit", {"kind": "delay", "ms": 3000}))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, payment)
        wait_until(lambda: effects(payment) == 1, 10, what="effect committed")
        assert not pending.done()
        assert pending.result(15).status_code == 201


SHAPES = ("invalid_json", "truncated", "empty", "html", "wrong_types", "missing_fields")


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("shape", SHAPES)
def test_malformed(payment: Fake, phase: str, shape: str) -> None:
    payment.faults(rule(phase, {"kind": "malformed", "shape": shape}))
    if shape == "truncated":
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete|complete message body"):
            post(payment)
    else:
        response = post(payment)
        assert response.status_code == 201
        if shape == "invalid_json":
            with pytest.raises(ValueError):
                response.json()
        elif shape == "empty":
            assert response.content == b""
        elif shape == "html":
            assert response.headers["content-type"].startswith("text/html")
        elif shape == "wrong_types":
            body = response.json()
            assert isinstance(body["payment_id"], int) and isinstance(body["amount_cents"], str)
        elif shape == "missing_fields":
            body = response.json()
            assert "payment_id" not in body and "status" not in body
    assert effects(payment) == (1 if phase == "after_commit" else 0)
    assert fault_of_last(payment) == {
        "rule_id": "r1", "phase": phase, "kind": "malformed", "shape": shape,
    }  # fmt: skip


def _wait_held(fake: Fake) -> list[dict[str, Any]]:
    response = fake.http.get("/_fracas/held", params={"wait": 10})
    assert response.status_code == 200
    return list(response.json()["held"])


def test_after_commit_hold_has_the_effect_and_answers_on_release(payment: Fake) -> None:
    payment.faults(rule("after_commit", {"kind": "hold"}))
    with ThreadPoolExecutor(1) as pool:
        pending: Future[httpx.Response] = pool.submit(
            post, payment, BODY, headers={"Idempotency-Key": "ord-f:capture"}
        )
        held = _wait_held(payment)
        assert len(held) == 1
        item = held[0]
        assert item["rule_id"] == "r1" and item["phase"] == "after_commit"
        assert item["method"] == "POST" and item["path"] == "/payments"
        assert item["order_id"] == "ord-f" and item["idempotency_key"] == "ord-f:capture"
        assert effects(payment) == 1  # committed, answer parked
        assert not pending.done()
        released = payment.http.post(f"/_fracas/held/{item['id']}/release")
        assert released.status_code == 200
        assert pending.result(10).status_code == 201
    assert payment.http.get("/_fracas/held").json() == {"held": []}
    assert payment.http.post(f"/_fracas/held/{item['id']}/release").status_code == 404


def test_before_commit_hold_makes_the_effect_on_release(payment: Fake) -> None:
    payment.faults(rule("before_commit", {"kind": "hold"}, times=1))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, payment)
        item = _wait_held(payment)[0]
        assert effects(payment) == 0
        assert payment.http.post("/_fracas/held/release").json() == {"released": [item["id"]]}
        assert pending.result(10).status_code == 201
    assert effects(payment) == 1


def test_held_long_poll_times_out_empty(payment: Fake) -> None:
    started = time.monotonic()
    assert payment.http.get("/_fracas/held", params={"wait": 0.2}).json() == {"held": []}
    assert time.monotonic() - started >= 0.2


def test_reset_aborts_held_requests(payment: Fake) -> None:
    payment.faults(rule("before_commit", {"kind": "hold"}))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, payment)
        _wait_held(payment)
        payment.reset()
        with pytest.raises(httpx.RemoteProtocolError):
            pending.result(10)
    assert effects(payment) == 0
    assert payment.journal() == []  # the aborted request is the last run's, not this one's


def test_a_request_delayed_across_a_reset_lands_in_no_run(payment: Fake) -> None:
    """The last run's orchestrator sent it; the fake was reset while a delay rule held it.
    Committing it then would put the last run's payment (and journal line) in the next
    run's ledger: the property search saw an order_confirmed of a finished run as a
    failed order's message. It is cut, with no effect and no journal line."""
    payment.faults(rule("before_commit", {"kind": "delay", "ms": 1500}))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, payment)
        wait_until(
            lambda: payment.http.get("/_fracas/faults").json()["rules"][0]["fired"] == 1,
            timeout=10, what="the delay rule to fire",
        )  # fmt: skip
        payment.reset()
        with pytest.raises(httpx.RemoteProtocolError):
            pending.result(10)
    assert effects(payment) == 0
    assert payment.journal() == []
    assert post(payment).status_code == 201  # the fake serves the new run as usual


def test_nth_fires_on_exactly_those_matches(payment: Fake) -> None:
    payment.faults(rule("before_commit", {"kind": "status", "status": 500}, match={
        "method": "POST", "path": "/payments", "nth": [2, 4],
    }))  # fmt: skip
    statuses = [post(payment).status_code for _ in range(5)]
    assert statuses == [201, 500, 201, 500, 201]


def test_times_retires_the_rule(payment: Fake) -> None:
    payment.faults(rule("before_commit", {"kind": "status", "status": 429}, times=2))
    statuses = [post(payment).status_code for _ in range(4)]
    assert statuses == [429, 429, 201, 201]
    view = payment.http.get("/_fracas/faults").json()["rules"][0]
    assert view["fired"] == 2 and view["matched"] == 4 and view["retired"] is True


def test_order_id_and_path_pattern_pick_one_step_of_one_order(payment: Fake) -> None:
    pids = [post(payment, {**BODY, "order_id": o}).json()["payment_id"] for o in ("a", "b")]
    payment.faults({
        "id": "refund-b",
        "match": {"method": "POST", "path": "/payments/*/refunds", "order_id": "b"},
        "action": {"kind": "status", "status": 502},
    })  # fmt: skip
    ok = payment.http.post(f"/payments/{pids[0]}/refunds", json={"amount_cents": 1})
    hit = payment.http.post(f"/payments/{pids[1]}/refunds", json={"amount_cents": 1})
    assert (ok.status_code, hit.status_code) == (201, 502)
    assert payment.http.get(f"/payments/{pids[1]}").status_code == 200  # GET not matched


def test_probability_is_seeded(payment: Fake) -> None:
    def run() -> list[int]:
        payment.reset()
        payment.faults(rule("before_commit", {"kind": "status", "status": 503}, seed=42,
                            match={"path": "/payments", "probability": 0.5}))  # fmt: skip
        return [post(payment).status_code for _ in range(16)]

    first = run()
    assert first == run()
    assert 0 < first.count(503) < 16


def test_first_matching_rule_wins_and_others_still_count(payment: Fake) -> None:
    payment.faults(
        rule("before_commit", {"kind": "status", "status": 500}, times=1),
        {**rule("before_commit", {"kind": "status", "status": 502}), "id": "r2",
         "match": {"path": "/payments", "nth": [2]}},
    )  # fmt: skip
    assert [post(payment).status_code for _ in range(3)] == [500, 502, 201]


def test_faults_admin_get_post_delete(payment: Fake) -> None:
    http = payment.http
    assert http.get("/_fracas/faults").json() == {"rules": []}
    created = http.post("/_fracas/faults", json=rule("before_commit", {"kind": "drop"}))
    assert created.status_code == 201
    dup = http.post("/_fracas/faults", json=rule("before_commit", {"kind": "drop"}))
    assert dup.status_code == 422 and "id" in dup.json()["detail"]
    assert http.delete("/_fracas/faults/r1").json() == {"rules": []}
    assert http.delete("/_fracas/faults/r1").status_code == 404
    payment.faults(rule("before_commit", {"kind": "drop"}))
    assert http.delete("/_fracas/faults").json() == {"rules": []}
    assert post(payment).status_code == 201


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"action": {"kind": "explode"}}, "rules[0].action.kind"),
        ({"action": {"kind": "status", "status": 200}}, "rules[0].action.status"),
        ({"action": {"kind": "delay"}}, "rules[0].action.ms"),
        ({"action": {"kind": "malformed", "shape": "odd"}}, "rules[0].action.shape"),
        ({"action": {"kind": "drop"}, "phase": "during"}, "rules[0].phase"),
        ({"action": {"kind": "drop"}, "match": {"nth": [0]}}, "rules[0].match.nth[0]"),
        ({"action": {"kind": "drop"}, "match": {"probability": 2}}, "rules[0].match.probability"),
        ({"action": {"kind": "drop"}, "match": {"verb": "GET"}}, "rules[0].match.verb"),
        ({"action": {"kind": "drop"}, "times": -1}, "rules[0].times"),
        ({"action": "drop"}, "rules[0].action"),
    ],
)
def test_bad_rules_are_422_naming_the_field(payment: Fake, bad: dict[str, Any], field: str) -> None:
    response = payment.http.put("/_fracas/faults", json={"rules": [bad]})
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == field
    assert problem["detail"].startswith(field)
    assert payment.http.put("/_fracas/faults", content=b"{").status_code == 400


def test_reset_is_fast_and_clears_everything(inventory: Fake) -> None:
    sku = inventory.table("stock")[-1]["sku"]
    inventory.http.post("/reservations", json={"order_id": "o", "lines": [{"sku": sku, "qty": 1}]})
    inventory.faults(rule("before_commit", {"kind": "drop"}))
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        inventory.reset()
        timings.append((time.perf_counter() - started) * 1000)
    assert statistics.median(timings) <= 20, timings
    assert inventory.table("reservations") == []
    assert all(row["held"] == 0 for row in inventory.table("stock"))
    assert inventory.http.get("/_fracas/faults").json() == {"rules": []}


def test_reset_validates_its_body(payment: Fake) -> None:
    bad = payment.http.post("/_fracas/reset", json={"seed": "seven"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "seed"
    kept = payment.http.post("/_fracas/reset", json={"seed": 7, "keep_faults": True})
    assert kept.status_code == 200


def _in_flight(fake: Fake) -> dict[str, Any]:
    response = fake.http.get("/_fracas/in-flight")
    assert response.status_code == 200
    return dict(response.json())


def test_in_flight_lists_a_request_a_delay_holds_until_it_commits(payment: Fake) -> None:
    """The harness reads the ledgers only once the requests a fake serves have left: a
    delay before the commit that outlasts its client commits after it gave up (the late
    commit), and a snapshot taken before that missed the effect. A request of the run
    before a reset is not this run's."""
    assert _in_flight(payment) == {"in_flight": 0, "requests": []}
    payment.faults(rule("before_commit", {"kind": "delay", "ms": 1500}, times=1))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, payment)
        now = wait_until(lambda: _in_flight(payment)["requests"], 10, what="the request")
        assert [(r["method"], r["path"]) for r in now] == [("POST", "/payments")]
        assert _in_flight(payment)["in_flight"] == 1 and effects(payment) == 0
        assert pending.result(10).status_code == 201
    assert _in_flight(payment)["in_flight"] == 0 and effects(payment) == 1
    payment.faults(rule("before_commit", {"kind": "delay", "ms": 1500}, times=1))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, payment)
        wait_until(lambda: _in_flight(payment)["requests"], 10, what="the request")
        payment.reset()
        assert _in_flight(payment) == {"in_flight": 0, "requests": []}
        with pytest.raises(httpx.HTTPError):
            pending.result(10)
