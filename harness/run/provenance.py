"""What a run ran against (the orchestrator as resolved, the fault backend, the fracas
version), recorded in its history so its replay file can say so.

Kept out of ``replay.py``: the runner records this as a run starts, and the replay
reader imports the runner, so the runner must not import the reader.
"""

from __future__ import annotations

from typing import Any

from fracas.harness.kit.version import fracas_version


def replay_context(topo: Any) -> dict[str, Any]:
    """What a replay file records about the topology a run used (a Topology)."""
    spec = topo.config.orchestrator
    out: dict[str, Any] = {
        "orchestrator": spec.to_json() if spec is not None else None,
        "fault_backend": getattr(topo.backend, "name", None),
        "fracas_version": fracas_version(),
    }
    custom = getattr(topo.config, "adapter", None)
    if custom is not None:
        # The spec describes the default, not what ran: recording it would replay the
        # run against the wrong orchestrator without a word.
        out["orchestrator"] = None
        kind = type(custom)
        out["adapter"] = {"class": f"{kind.__module__}.{kind.__qualname__}",
                          "description": str(getattr(custom, "description", ""))}  # fmt: skip
    return out
