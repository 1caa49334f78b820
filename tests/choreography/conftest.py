"""Real choreographies: a NATS server, six participant processes and the five fakes,
started per test and always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fracas.harness.adapters.select import AdapterSpec
from fracas.harness.run.topology import Topology, TopologyConfig


@pytest.fixture
def start_topology(tmp_path: Path) -> Iterator[Callable[..., Topology]]:
    started: list[Topology] = []

    def start(spec: AdapterSpec, seed: int = 0) -> Topology:
        topo = Topology.start(TopologyConfig(
            run_dir=tmp_path / f"run{len(started)}", seed=seed, orchestrator=spec))
        started.append(topo)
        return topo

    yield start
    for topo in started:
        topo.stop()
