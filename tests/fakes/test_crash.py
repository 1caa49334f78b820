"""SIGKILL the payment fake in the middle of 200 keyed captures: what it answered is
in the ledger, and resending every request with its key makes no new effect."""

from __future__ import annotations

import asyncio

import httpx

from fracas.fakes.world import OK_TOKEN
from tests.fakes.support import Fake

N = 200


def body(i: int) -> dict[str, object]:
    return {
        "order_id": f"ord-{i:03d}",
        "amount_cents": 100 + i,
        "currency": "EUR",
        "card_token": OK_TOKEN,
    }


def key(i: int) -> str:
    return f"ord-{i:03d}:capture"


async def _storm(fake: Fake, kill_after: int) -> dict[int, dict[str, object]]:
    """All captures in flight at once; kill the process once `kill_after` are answered."""
    answered: dict[int, dict[str, object]] = {}
    killed = asyncio.Event()
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=fake.url, limits=limits, timeout=20.0) as client:

        async def one(i: int) -> None:
            try:
                response = await client.post(
                    "/payments", json=body(i), headers={"Idempotency-Key": key(i)}
                )
            except httpx.HTTPError:
                return
            if response.status_code == 201 and not killed.is_set():
                answered[i] = response.json()
                if len(answered) >= kill_after:
                    killed.set()
                    fake.process.kill()

        await asyncio.gather(*(one(i) for i in range(N)))
    return answered


def test_sigkill_mid_storm_loses_nothing_answered(own_payment: Fake) -> None:
    fake = own_payment
    answered = asyncio.run(_storm(fake, kill_after=N // 3))
    assert len(answered) >= N // 3
    assert not fake.process.process.alive
    fake.process.restart(30.0)  # same port, same state dir

    ledger = {row["idempotency_key"]: row for row in fake.table("payments")}
    for i, answer in answered.items():
        row = ledger[key(i)]
        assert row["payment_id"] == answer["payment_id"]
        assert row["amount_cents"] == answer["amount_cents"]
    before = len(ledger)
    assert before < N  # the kill really interrupted the storm
    # the journal line commits with the effect, so it survived too
    journaled = {e["effect_id"] for e in fake.journal() if e["effect_id"]}
    assert journaled == {row["payment_id"] for row in ledger.values()}

    # Resend everything with its key: answered ones replay, the rest are made once.
    with httpx.Client(base_url=fake.url, timeout=20.0) as client:
        for i in range(N):
            response = client.post("/payments", json=body(i), headers={"Idempotency-Key": key(i)})
            assert response.status_code == 201
            if i in answered or key(i) in ledger:
                assert response.headers.get("idempotent-replayed") == "true"
                assert response.json()["payment_id"] == ledger[key(i)]["payment_id"]
    rows = fake.table("payments")
    assert len(rows) == N
    assert len({r["idempotency_key"] for r in rows}) == N
