"""The broker's place in a topology: started (or reached at a given URL), put behind the
fault proxy, and the choreography (or hybrid) adapter built on it.

The participants reach the broker only through its proxy (``broker``), so network faults
act between each participant and the broker; the harness's own link goes direct, so
placing orders and reading the broker's accounting are never faulted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from fracas.fakes import events
from fracas.harness.adapters import AdapterError
from fracas.harness.adapters.choreo_spec import ChoreographySpec
from fracas.harness.adapters.choreography import ChoreographyAdapter
from fracas.harness.adapters.hybrid import HybridAdapter
from fracas.harness.adapters.select import AdapterSpec, adapter_from_spec
from fracas.harness.backends import FaultBackend, UrlBackend
from fracas.harness.broker.link import BrokerError, BrokerLink
from fracas.harness.broker.server import BrokerMissing, BrokerProcess, start_broker
from fracas.harness.broker.tap import Tap
from fracas.harness.kit.net import LOOPBACK

#: The broker's name as a fault target (its proxy) and in logs.
BROKER = "broker"


@dataclass
class BrokerSide:
    process: BrokerProcess | None  # None: a server given by URL, not fracas's to stop
    link: BrokerLink
    proxy_name: str
    proxied_url: str
    #: Every message the broker moves, for the history (broker/tap.py).
    tap: Tap = field(default_factory=lambda: Tap(events.STREAM))

    def wait_settled(self, timeout: float) -> bool:
        """``BrokerLink.wait_settled`` on the saga's stream."""
        return self.link.wait_settled(events.STREAM, timeout)

    def stop(self) -> None:
        try:
            self.link.close()
        finally:
            if self.process is not None:
                self.process.stop()


def start_broker_side(
    spec: AdapterSpec, run_dir: Path, backend: FaultBackend, timeout: float
) -> tuple[BrokerSide, ChoreographyAdapter | HybridAdapter]:
    """The broker up, behind its proxy, and the adapter of ``spec``'s choreography (with
    its orchestrator, for a hybrid)."""
    assert spec.choreography is not None
    choreo = ChoreographySpec.from_json(spec.choreography)
    process = None
    try:
        if choreo.broker is None:
            process = start_broker(run_dir / "state" / BROKER, run_dir / "logs", timeout)
            url = process.url
        else:
            url = choreo.broker
        link = BrokerLink(url)
    except (BrokerMissing, BrokerError) as exc:
        if process is not None:
            process.stop()
        raise AdapterError(str(exc)) from None
    parsed = urlparse(url)
    name = BROKER if not isinstance(backend, UrlBackend) else f"fracas-{os.getpid()}-{BROKER}"
    try:
        [made] = backend.client.populate([{
            "name": name, "listen": f"{LOOPBACK}:0", "enabled": True,
            "upstream": f"{parsed.hostname}:{parsed.port or 4222}",
        }])  # fmt: skip
    except BaseException:
        BrokerSide(process, link, name, "").stop()
        raise
    side = BrokerSide(process, link, name, f"nats://{LOOPBACK}:{made.port}")
    link.tap(side.tap)
    if spec.hybrid:
        return side, HybridAdapter(choreo, adapter_from_spec(spec), link, side.proxied_url)
    return side, ChoreographyAdapter(choreo, link, side.proxied_url)
