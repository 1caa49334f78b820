"""Fixtures every part of fracas's own tests shares: real topologies, always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fracas.harness.adapters.select import AdapterSpec
from fracas.harness.run.topology import Topology, TopologyConfig


@pytest.fixture
def start_topology(tmp_path: Path) -> Iterator[Callable[..., Topology]]:
    """Start a topology with any orchestrator spec; every one started is stopped."""
    started: list[Topology] = []

    def start(spec: AdapterSpec | None = None, seed: int = 0) -> Topology:
        topo = Topology.start(TopologyConfig(
            run_dir=tmp_path / f"run{len(started)}", seed=seed, orchestrator=spec))
        started.append(topo)
        return topo

    yield start
    for topo in started:
        topo.stop()
