"""The bundled choreography as a spec, with defects planted per participant, and the
broker's and the participants' sockets as the kernel sees them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from fracas.harness.adapters.choreo_spec import parse
from fracas.harness.adapters.select import AdapterSpec
from fracas.harness.kit.proctable import socket_inodes, tcp_rows

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "choreography"


def example_table() -> dict[str, Any]:
    data = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    table: dict[str, Any] = data["tool"]["fracas"]["choreography"]
    return table


def choreo_spec(**bugs: str) -> AdapterSpec:
    """The bundled choreography; ``payment="no-dedup"`` plants that defect in payment."""
    table = example_table()
    for p in table["participants"]:
        if p["name"] in bugs:
            p["command"] = [*p["command"], "--bug", bugs[p["name"]]]
    data = parse(table, "test", str(EXAMPLE))
    return AdapterSpec(command=None, source="test", cwd=str(EXAMPLE), choreography=data)


def listen_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc shows them) listening on ``port``."""
    return {r[1].split(":")[0] for r in tcp_rows()
            if r[3] == "0A" and int(r[1].split(":")[1], 16) == port}  # fmt: skip


def remote_ports(pid: int) -> set[int]:
    """The remote ports of ``pid``'s established TCP connections."""
    inodes = socket_inodes(pid)
    return {int(r[2].split(":")[1], 16) for r in tcp_rows() if r[3] == "01" and int(r[9]) in inodes}


HYBRID = ROOT / "examples" / "hybrid"


def hybrid_spec(orchestrator_bug: str | None = None, **bugs: str) -> AdapterSpec:
    """The bundled hybrid as ``fracas run`` reads it from its folder; ``orchestrator_bug``
    plants a defect in the orchestrator, ``notify="no-dedup"`` one in that participant."""
    from dataclasses import replace

    from fracas.harness.adapters.select import resolve_spec

    spec = resolve_spec(environ={}, choreography=str(HYBRID))
    assert spec.hybrid and spec.command is not None and spec.choreography is not None
    command = spec.command + (("--bug", orchestrator_bug) if orchestrator_bug else ())
    data = dict(spec.choreography)
    data["participants"] = [
        {**p, "command": [*p["command"], "--bug", bugs[p["name"]]]} if p["name"] in bugs else p
        for p in data["participants"]
    ]
    return replace(spec, command=command, choreography=data)
