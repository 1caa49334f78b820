"""Calls to the fakes, retried until a definite answer, like the bundled orchestrator's.

Every effectful call carries ``Idempotency-Key: <order>:<step>`` so a retry, or the
handling of a redelivered event, replays the first answer instead of making a second
effect; every call carries the order id as its correlation id.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import httpx

#: An answer the saga can act on: success, or a business refusal.
DEFINITE = {200, 201, 402, 404, 409, 422}


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


class Services:
    def __init__(self, timeout: float = 1.0) -> None:
        self._http = httpx.AsyncClient(timeout=timeout, trust_env=False)

    @staticmethod
    def url(service: str) -> str:
        return os.environ[f"FRACAS_{service.upper()}_URL"]

    async def call(self, service: str, method: str, path: str, order_id: str,
                   json: dict[str, Any] | None = None, key: str | None = None,
                   params: dict[str, str] | None = None) -> Answer:
        headers = {"X-Correlation-ID": order_id}
        if key is not None:
            headers["Idempotency-Key"] = key
        delay = 0.05
        while True:
            try:
                resp = await self._http.request(method, self.url(service) + path, json=json,
                                                headers=headers, params=params)
                if resp.status_code in DEFINITE:
                    body = resp.json()
                    return Answer(resp.status_code, body if isinstance(body, dict) else
                                  {"items": body})
            except (httpx.HTTPError, ValueError):
                pass  # no answer, or a garbled one: ask again (the key makes it safe)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
