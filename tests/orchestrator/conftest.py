"""Real processes for the orchestrator's tests: the five fakes and the orchestrator.

The fakes are started once per session (start-up costs a second of CPU each on a busy
machine) and reset to the seeded world before every test (restarted if a test killed
one); each test gets its own orchestrator with a fresh state directory. Everything is
stopped in teardown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from orch_helpers import SEED, Orchestrator  # noqa: E402

from fracas.harness.kit.procs import ManagedProcess, python_argv  # noqa: E402
from fracas.harness.run.services import SERVICES, FakeProcess, spawn_fake  # noqa: E402


@pytest.fixture(scope="session")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, FakeProcess]]:
    root = tmp_path_factory.mktemp("fakes")
    started: dict[str, FakeProcess] = {}
    try:
        for name in SERVICES:
            started[name] = spawn_fake(name, root / name, SEED)
        with ThreadPoolExecutor(len(started)) as pool:
            list(pool.map(lambda f: f.wait_healthy(30.0), started.values()))
        yield started
    finally:
        for fake in started.values():
            fake.stop()


@pytest.fixture
def world(fakes: dict[str, FakeProcess]) -> dict[str, FakeProcess]:
    """The fakes, reset to the seeded world with no fault rules."""
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        for fake in fakes.values():
            if not fake.process.alive:
                fake.restart(30.0)
            http.delete(f"{fake.url}/_fracas/faults").raise_for_status()
            http.post(f"{fake.url}/_fracas/reset", json={"seed": SEED}).raise_for_status()
    return fakes


@pytest.fixture
def start_orchestrator(
    world: dict[str, FakeProcess], tmp_path: Path
) -> Iterator[Callable[..., Orchestrator]]:
    """Start an orchestrator (fast profile, test clock) on the fakes; stopped in teardown."""
    made: list[Orchestrator] = []

    def start(
        *args: str, env: dict[str, str] | None = None, urls: dict[str, str] | None = None
    ) -> Orchestrator:
        from fracas.harness.kit.net import free_port

        port = free_port()
        full_env = dict(os.environ)
        for name, fake in world.items():
            full_env[f"FRACAS_{name.upper()}_URL"] = (urls or {}).get(name, fake.url)
        full_env.update(
            {
                "FRACAS_LISTEN": f"127.0.0.1:{port}",
                "FRACAS_STATE_DIR": str(tmp_path / f"orch-{len(made)}"),
                "FRACAS_PROFILE": "fast",
                "FRACAS_TEST_CLOCK": "1",
                "FRACAS_SEED": "1",
            }
        )
        full_env.update(env or {})
        proc = ManagedProcess(
            "orchestrator",
            python_argv("fracas.orchestrator", *args),
            tmp_path / f"orchestrator-{len(made)}.log",
            env=full_env,
        )
        orch = Orchestrator(proc, f"http://127.0.0.1:{port}", world)
        made.append(orch)
        orch.start()
        return orch

    yield start
    for orch in made:
        orch.close()


@pytest.fixture
def orch(start_orchestrator: Callable[..., Orchestrator]) -> Orchestrator:
    return start_orchestrator()

