"""Checks ``fracas run`` makes once, before pytest collects anything: the orchestrator
command resolves to an executable and the fault backend can start. A failure is one
short message (what, why, what to do) instead of the same traceback under every test."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fracas.harness.adapters import AdapterError, adapter_from_spec
from fracas.harness.adapters.choreo_spec import check_runnable
from fracas.harness.adapters.command import check_command
from fracas.harness.adapters.select import AdapterSpec
from fracas.harness.backends import BackendError, make_backend


def preflight(spec: AdapterSpec, fault_backend: str | None, seed: int = 0) -> str | None:
    """None when both can start; else the message to print."""
    try:
        if spec.choreography is not None:
            check_runnable(spec.choreography)
        if spec.choreography is None or spec.hybrid:
            adapter = adapter_from_spec(spec)
            check_command(adapter.argv, adapter.cwd)
    except AdapterError as exc:
        return str(exc)
    try:
        with tempfile.TemporaryDirectory(prefix="fracas-preflight-") as tmp:
            backend = make_backend(fault_backend, seed=seed, log_dir=Path(tmp))
            try:
                backend.start()
            finally:
                backend.stop()
    except (BackendError, OSError) as exc:
        return (
            f"the fault backend cannot start: {exc}. Choose another with --fault-backend "
            "or FRACAS_FAULT_BACKEND (embedded needs nothing installed)."
        )
    return None
