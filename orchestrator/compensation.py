"""Compensation: comp:cancel -> comp:release -> comp:refund -> comp:notify -> failed.

Each step undoes whatever the ledgers say belongs to the order, looking it up when its
id was never learnt, and ends in ``needs_attention`` when its own budget runs out, so
money is never left charged on an order reported as failed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fracas.orchestrator import validate
from fracas.orchestrator.calls import ServiceCalls
from fracas.orchestrator.clients import Outcome
from fracas.orchestrator.state import COMPENSATION_STEPS, Saga, idempotency_key


class Compensation(ServiceCalls):
    """One method per compensation step; the engine (``saga.Engine``) sets the fields."""

    def _next_comp(self, saga: Saga, step: str, o: Outcome | None = None) -> None:
        i = COMPENSATION_STEPS.index(step)
        if i + 1 < len(COMPENSATION_STEPS):
            self._move(saga, COMPENSATION_STEPS[i + 1], event=(step, "done"), outcome=o)
        else:
            self._move(saga, "done", status="failed", event=(step, "failed"), outcome=o)

    async def _undo_all(
        self,
        saga: Saga,
        step: str,
        purpose: str,
        known_id: str | None,
        service: str,
        path: str,
        table: str,
        id_field: str,
        live: Callable[[dict[str, Any]], bool],
        undo: Callable[[dict[str, Any]], Awaitable[Outcome]],
    ) -> None:
        """Undo the effect of `purpose`: the known one, or all the ledger shows."""
        if purpose not in saga.intents:
            self._next_comp(saga, step)
            return
        if known_id is not None:
            targets: list[dict[str, Any]] | None = [{id_field: known_id}]
        else:
            rows = await self._lookup(service, path, table, saga, step, id_field, True)
            targets = None if rows is None else [r for r in rows if live(r)]
        if targets is None:
            self.metrics.compensation(step, "unresolved")
            self._attention(saga, f"{step}: cannot read {service} ledger", None, step)
            return
        last: Outcome | None = None
        for target in targets:
            last = await undo(target)
            if not last.ok:
                self.metrics.compensation(step, last.kind)
                self._attention(saga, f"{step} failed: {last.error or last.problem}", last, step)
                return
        self.metrics.compensation(step, "ok")
        self._next_comp(saga, step, last)

    async def _comp_cancel(self, saga: Saga) -> None:
        async def cancel(row: dict[str, Any]) -> Outcome:
            sid = row["shipment_id"]
            o = await self._call(
                "shipping", "POST", f"/shipments/{sid}/cancel", saga=saga, step="comp:cancel",
                validator=validate.cancelled, key=idempotency_key(saga.order_id, f"cancel:{sid}"),
                compensation=True,
            )  # fmt: skip
            return o

        await self._undo_all(
            saga, "comp:cancel", "ship", saga.ctx.get("shipment_id"), "shipping", "/shipments",
            "shipments", "shipment_id", lambda r: r.get("status") != "cancelled", cancel,
        )  # fmt: skip

    async def _comp_release(self, saga: Saga) -> None:
        async def release(row: dict[str, Any]) -> Outcome:
            rid = row["reservation_id"]
            return await self._call(
                "inventory", "POST", f"/reservations/{rid}/release", saga=saga,
                step="comp:release", validator=validate.released,
                key=idempotency_key(saga.order_id, f"release:{rid}"), compensation=True,
            )  # fmt: skip

        await self._undo_all(
            saga, "comp:release", "reserve", saga.ctx.get("reservation_id"), "inventory",
            "/reservations", "reservations", "reservation_id",
            lambda r: r.get("status") == "held", release,
        )  # fmt: skip

    async def _comp_refund(self, saga: Saga) -> None:
        known = saga.ctx.get("payment_id")

        async def refund(row: dict[str, Any]) -> Outcome:
            pid = row["payment_id"]
            if "amount_cents" in row:
                amount = row["amount_cents"] - (row.get("refunded_cents") or 0)
            else:
                amount = saga.ctx["amount_cents"]
            if amount <= 0:
                return Outcome("ok")
            o = await self._call(
                "payment", "POST", f"/payments/{pid}/refunds", saga=saga, step="comp:refund",
                validator=validate.refund(pid), body={"amount_cents": amount},
                key=idempotency_key(saga.order_id, f"refund:{pid}"), compensation=True,
            )  # fmt: skip
            if o.kind == "refused" and o.problem == "refund-exceeds-capture":
                # Already refunded (by us, before a crash): confirm from the ledger.
                p = await self._call(
                    "payment", "GET", f"/payments/{pid}", saga=saga, step="comp:refund:check",
                    validator=validate.payment(saga.order_id), compensation=True,
                )  # fmt: skip
                if p.ok and p.body["refunded_cents"] >= p.body["amount_cents"]:
                    return p
            return o

        await self._undo_all(
            saga, "comp:refund", "capture", known, "payment", "/payments", "payments",
            "payment_id", lambda r: r.get("status") == "captured", refund,
        )  # fmt: skip

    async def _comp_notify(self, saga: Saga) -> None:
        # The hybrid: order.failed carries whether order_failed is owed; notify sends it.
        if not saga.ctx.get("notify_failed") or self.relay is not None:
            self._next_comp(saga, "comp:notify")
            return
        sent, o = await self._notify(saga, "order_failed", "comp:notify")
        if sent:
            self.metrics.compensation("comp:notify", "ok")
            self._next_comp(saga, "comp:notify")
        else:
            self.metrics.compensation("comp:notify", o.kind)
            self._attention(saga, f"order_failed not sent: {o.error or o.problem}", o,
                            "comp:notify")  # fmt: skip
