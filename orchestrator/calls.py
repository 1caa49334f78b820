"""How a step talks to a service: one call with its retry policy, a ledger lookup, a message.

Both the forward steps and compensation call services, look effects up by
``?order_id=`` after doubt, and send notifications at most once; they share these so an
ambiguous answer is treated the same way on both paths.
"""

from __future__ import annotations

from typing import Any

from fracas.orchestrator import validate
from fracas.orchestrator.clients import Outcome, RetryPolicy, ServiceClient
from fracas.orchestrator.state import Saga, idempotency_key
from fracas.orchestrator.transitions import Transitions


class ServiceCalls(Transitions):
    """Calls made on a saga's behalf; the engine (``saga.Engine``) sets the fields."""

    clients: dict[str, ServiceClient]
    forward: RetryPolicy
    compensating: RetryPolicy

    async def _call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        saga: Saga,
        step: str,
        validator: validate.Validator,
        body: Any = None,
        params: dict[str, str] | None = None,
        key: str | None = None,
        compensation: bool = False,
    ) -> Outcome:
        # Nothing leaves the process before the state that led to it is on disk.
        await self.store.durable()
        return await self.clients[service].call(
            method,
            path,
            step=step,
            policy=self.compensating if compensation else self.forward,
            validator=validator,
            correlation_id=saga.order_id,
            json_body=body,
            params=params,
            idempotency_key=key,
        )

    async def _lookup(
        self,
        service: str,
        path: str,
        table: str,
        saga: Saga,
        step: str,
        id_field: str,
        compensation: bool = False,
    ) -> list[dict[str, Any]] | None:
        """What the service's ledger holds for this order; None when it cannot be read."""

        def rows_ok(body: Any) -> str | None:
            rows = validate.listing(body, table)
            if rows is None:
                return "not a listing"
            for r in rows:
                if not isinstance(r.get(id_field), str) or not isinstance(r.get("status", ""), str):
                    return f"row without {id_field}"
            return None

        outcome = await self._call(
            service,
            "GET",
            path,
            saga=saga,
            step=f"{step}:lookup",
            validator=rows_ok,
            params={"order_id": saga.order_id},
            compensation=compensation,
        )
        self.metrics.step(f"{step}:lookup", outcome.kind, outcome.duration)
        if not outcome.ok:
            return None
        rows = validate.listing(outcome.body, table) or []
        return [r for r in rows if r.get("order_id", saga.order_id) == saga.order_id]

    async def _notify(self, saga: Saga, template: str, step: str) -> tuple[bool, Outcome]:
        """Send one message at most once; True when the ledger holds it."""
        body = {
            "order_id": saga.order_id,
            "customer_id": saga.order["customer_id"],
            "template": template,
        }
        o = await self._call(
            "notify", "POST", "/messages", saga=saga, step=step, validator=validate.message,
            body=body, key=idempotency_key(saga.order_id, f"notify:{template}"),
            compensation=True,
        )  # fmt: skip
        self.metrics.step(step, o.kind, o.duration)
        if o.ok:
            return True, o
        if o.kind == "unknown" and o.ambiguous:
            rows = await self._lookup("notify", "/messages", "messages", saga, step,
                                      "message_id", compensation=True)  # fmt: skip
            if rows is not None and any(r.get("template") == template for r in rows):
                return True, o
        return False, o
