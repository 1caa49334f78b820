"""A seeded storm of every HTTP fault on every call of every service, then the ledgers."""

from __future__ import annotations

import random
from typing import Any

import pytest
from orch_helpers import Orchestrator, assert_consistent, judge
from test_orch_crash import mixed_orders
from test_orch_faults import SHAPES, fired, put_faults

from fracas.harness.run.services import SERVICES

ACTIONS: list[dict[str, Any]] = [
    {"kind": "drop"},
    {"kind": "reset"},
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 503, "retry_after": 0.1},
    {"kind": "status", "status": 429},
    {"kind": "status", "status": 409},
    {"kind": "delay", "ms": 300},
    *({"kind": "malformed", "shape": shape} for shape in SHAPES),
]


@pytest.mark.slow
def test_random_faults_everywhere_leave_the_ledgers_consistent(orch: Orchestrator) -> None:
    rng = random.Random(4242)
    rules: dict[str, list[dict[str, Any]]] = {}
    for service in SERVICES:
        for i, action in enumerate(ACTIONS):
            for phase in ("before_commit", "after_commit"):
                rules.setdefault(service, []).append(
                    {
                        "id": f"{service}-{i}-{phase}",
                        "match": {"method": "*", "path": "/**", "probability": 0.012},
                        "phase": phase,
                        "action": action,
                        "seed": rng.randrange(2**31),
                    }
                )
    put_faults(orch.fakes, rules)
    orders = mixed_orders(150, random.Random(7))
    risky = {o["order_id"] for o in orders if o["customer_id"] in _risky()}
    for o in orders:
        orch.submit(o)
    for n, oid in enumerate(sorted(risky)):
        orch.wait_status(oid, {"awaiting_review"})
        assert orch.review(oid, "approve" if n % 2 else "reject").status_code == 200
    statuses = orch.wait_terminal([o["order_id"] for o in orders], timeout=120)
    storm = fired(orch.fakes)
    completed = sum(1 for v in statuses.values() if v == "completed")
    print(f"faults fired: {storm}; {completed} of {len(orders)} completed")
    assert storm >= 100  # the storm really blew
    put_faults(orch.fakes, {s: [] for s in SERVICES})  # heal before reading the truth
    assert set(statuses.values()) <= {"completed", "failed"}, {
        k: v for k, v in statuses.items() if v not in ("completed", "failed")
    }
    assert_consistent(judge(orch, orders))


def _risky() -> set[str]:
    from orch_helpers import the_world

    return {c.customer_id for c in the_world().high_risk_customers()}
