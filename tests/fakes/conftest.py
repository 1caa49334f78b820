"""Real fake processes for the fakes' tests.

The five fakes start once per session (in parallel) and every test gets its fake
freshly reset, so tests stay independent without paying a process start each. Tests
that kill a fake start their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fracas.harness.run.services import SERVICES, spawn_fake
from tests.fakes.support import SEED, Fake, start


@pytest.fixture(scope="session")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Fake]]:
    root = tmp_path_factory.mktemp("fakes")
    procs = [spawn_fake(name, root / name, SEED) for name in SERVICES]
    try:
        started = {p.name: Fake(p.wait_healthy(30.0)) for p in procs}
        yield started
    finally:
        for p in procs:
            p.stop()


def _fresh(fakes: dict[str, Fake], name: str) -> Fake:
    fake = fakes[name]
    fake.reset()
    return fake


@pytest.fixture
def crm(fakes: dict[str, Fake]) -> Fake:
    return _fresh(fakes, "crm")


@pytest.fixture
def payment(fakes: dict[str, Fake]) -> Fake:
    return _fresh(fakes, "payment")


@pytest.fixture
def inventory(fakes: dict[str, Fake]) -> Fake:
    return _fresh(fakes, "inventory")


@pytest.fixture
def shipping(fakes: dict[str, Fake]) -> Fake:
    return _fresh(fakes, "shipping")


@pytest.fixture
def notify(fakes: dict[str, Fake]) -> Fake:
    return _fresh(fakes, "notify")


@pytest.fixture
def own_payment(tmp_path: Path) -> Iterator[Fake]:
    """A payment fake of this test's own, for tests that kill it."""
    fake = start("payment", tmp_path / "payment")
    try:
        yield fake
    finally:
        fake.close()
        fake.process.stop()
