"""What the fakes' tests use to drive a real fake process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from fracas.harness.run.services import FakeProcess, spawn_fake

SEED = 7


class Fake:
    """A started fake plus the small admin vocabulary tests use."""

    def __init__(self, process: FakeProcess) -> None:
        self.process = process
        self.url = process.url
        self.http = httpx.Client(base_url=self.url, timeout=10.0)

    def reset(self, seed: int = SEED) -> dict[str, Any]:
        response = self.http.post("/_fracas/reset", json={"seed": seed})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def state(self) -> dict[str, Any]:
        return dict(self.http.get("/_fracas/state").json())

    def table(self, name: str) -> list[dict[str, Any]]:
        return list(self.state()["tables"][name])

    def journal(self, since: int = 0) -> list[dict[str, Any]]:
        return list(self.http.get("/_fracas/journal", params={"since": since}).json()["entries"])

    def faults(self, *rules: dict[str, Any]) -> dict[str, Any]:
        response = self.http.put("/_fracas/faults", json={"rules": list(rules)})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def fresh(self) -> httpx.Client:
        """A client with its own connection, for requests whose connection a fault breaks."""
        return httpx.Client(base_url=self.url, timeout=10.0)

    def close(self) -> None:
        self.http.close()


def start(name: str, state_dir: Path, seed: int = SEED) -> Fake:
    return Fake(spawn_fake(name, state_dir, seed).wait_healthy(30.0))
