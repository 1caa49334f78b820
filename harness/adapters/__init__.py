"""Orchestrators under test, behind one small protocol.

The harness never imports an orchestrator's code: it starts a process that implements
the HTTP contract (docs/contract.md §2) and talks to it over HTTP. ``ProcessAdapter``
runs any such command line; ``bundled`` is fracas's own orchestrator.
"""

from fracas.harness.adapters.base import (
    CAPABILITIES,
    AdapterError,
    OrchestratorAdapter,
    OrchestratorEnv,
    OrchestratorUnreachable,
    PortTaken,
    ReviewResult,
    SubmitResult,
)
from fracas.harness.adapters.process import ProcessAdapter
from fracas.harness.adapters.select import AdapterSpec, adapter_from_spec, resolve_spec
from fracas.harness.kit.procs import ProcessHandle

__all__ = [
    "CAPABILITIES",
    "AdapterError",
    "AdapterSpec",
    "OrchestratorAdapter",
    "OrchestratorEnv",
    "OrchestratorUnreachable",
    "PortTaken",
    "ProcessAdapter",
    "ProcessHandle",
    "ReviewResult",
    "SubmitResult",
    "adapter_from_spec",
    "resolve_spec",
]
