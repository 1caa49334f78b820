"""How much slower than on an idle machine fracas should expect things to be.

Parallel topologies on one machine slow every process down: an orchestrator that
settles in 2 s alone may need 6 s when four topologies share two cores. A correct
orchestrator must never be failed for that, so the harness's own timing deadlines
(settle time and the liveness rule that reads it, the time an order may be missing
before it counts as lost, health and start-up waits, the workload and submit limits,
the admin calls that read and release held requests and read the ledgers)
are multiplied by one factor:

- ``FRACAS_TIME_SCALE`` (or ``--fracas-time-scale``) when set: a number > 0;
- else, under pytest-xdist, the workers per CPU core (never below 1): ``-n 4`` on two
  cores gives 2;
- else 1.

The factor stretches deadlines only; it never adds waiting to a run that finishes on
time (settling still ends as soon as every order is terminal).
"""

from __future__ import annotations

import os

ENV = "FRACAS_TIME_SCALE"


class TimeScaleError(ValueError):
    """FRACAS_TIME_SCALE is not a positive number."""


def parse_scale(text: str, where: str = ENV) -> float:
    try:
        value = float(text)
    except ValueError:
        raise TimeScaleError(f"{where}: expected a number greater than 0, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise TimeScaleError(f"{where}: expected a number greater than 0, got {text!r}")
    return value


def time_scale() -> float:
    """The factor for this process (read each time: tests and the plugin set the env)."""
    text = os.environ.get(ENV, "").strip()
    if text:
        return parse_scale(text)
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "").strip()
    if workers.isdigit() and int(workers) > 1:
        return max(1.0, int(workers) / (os.cpu_count() or 1))
    return 1.0


def scaled(seconds: float) -> float:
    """``seconds`` stretched by the time scale."""
    return seconds * time_scale()
