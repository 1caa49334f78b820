"""What a run resolves from its schedule before anything starts (run/runner.py
``_resolve``): the review's stuck limit is widened when a fault kills the orchestrator,
told by the kind's own ``kills``, so a hybrid's crash at its end-event publish counts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from fracas.harness.faults.base import fault_kinds
from fracas.harness.run.runner import RunOptions, _resolve

#: What ``_resolve`` reads of a topology: its fault backend's name and whether it reads
#: the NATS protocol (message faults are refused otherwise).
TOPO: object = SimpleNamespace(backend=SimpleNamespace(name="embedded", reads_nats=True))
OPTS = RunOptions(call_timeout=1.0, stuck_review_after=3.0, stuck_review_after_crash=10.0)


def _entry(kind: str, target: str, params: dict[str, object] | None = None) -> dict[str, object]:
    return {"fault": {"kind": kind, "target": target, "params": params or {}}, "at": 0.0}


@pytest.mark.parametrize(("entry", "widened"), [
    (_entry("kill", "orchestrator"), True),
    (_entry("restart", "orchestrator"), True),
    (_entry("message_publish_crash", "orchestrator",
            {"event": "order.completed", "order_id": "ord-0001"}), True),
    (_entry("kill", "payment"), False),  # a fake: the orchestrator keeps its timers
    (_entry("pause", "orchestrator"), False),  # paused, not restarted
    (_entry("message_crash", "participant:payment",
            {"event": "customer.checked", "order_id": "ord-0001"}), False),
])  # fmt: skip
def test_the_review_stuck_limit_widens_when_the_orchestrator_is_killed(
    entry: dict[str, object], widened: bool
) -> None:
    opts, _ = _resolve(TOPO, [entry], OPTS)  # type: ignore[arg-type]
    assert opts.stuck_review_after == (10.0 if widened else 3.0)


def test_every_process_kind_that_kills_says_so() -> None:
    kills = {k for k, cls in fault_kinds().items() if cls.kills}
    assert kills == {"kill", "restart", "message_crash", "message_publish_crash"}
