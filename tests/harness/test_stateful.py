"""The stateful scenario's machine finds a planted defect on its own, and names the rule.

The naive orchestrator with ``--bug no-idempotency`` retries a lost capture without an
Idempotency-Key; the machine must find the double charge from its own rules (a drop
armed on the capture of an order, then the submit), with no schedule written by hand,
and fail leading with the witness. It is aimed at lost answers (drops only, no
crashes), because the naive orchestrator fails other rules under crashes even with no
bug switched on (its compensation refunds 0). Shrinking is off here (each example starts
real processes); the scenario itself shrinks as usual.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from harness_helpers import naive_spec
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from fracas.harness.report.text import ConsistencyError
from fracas.harness.run.replay import load_replay
from fracas.harness.run.scenario import Fracas
from fracas.harness.run.workload import allowed_intents
from fracas.harness.search.stateful import StatefulRun, landing_faults, machine_for

FIND = settings(
    max_examples=60,  # it stops at the first find; the rules' draws decide which example that is
    stateful_step_count=8,
    derandomize=True,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def _messages(exc: BaseException) -> list[str]:
    """Hypothesis reports several distinct failures as an ExceptionGroup."""
    if isinstance(exc, BaseExceptionGroup):
        return [m for e in exc.exceptions for m in _messages(e)]
    return [str(exc)]

@pytest.mark.slow
def test_machine_finds_no_idempotency_and_names_double_charge(start_topology, tmp_path) -> None:
    # Aimed like the fault kinds: no review orders (the capture is what a drop must hit).
    spec = replace(naive_spec("no-idempotency"), clock=None,
                   capabilities=frozenset({"crash", "restart"}))
    topo = start_topology(spec)
    fracas = Fracas(topo, report_dir=tmp_path, replay_dir=tmp_path / "replays")
    machine = machine_for(fracas, settle_seconds=10, fault_kinds=("drop",), crash_targets=())
    with pytest.raises((ConsistencyError, BaseExceptionGroup)) as info:
        run_state_machine_as_test(machine, settings=FIND)
    texts = _messages(info.value)
    # an order flagged by several rules is told once, every rule in its heading
    found = [t for t in texts if re.search(r"\[[^\]]*\bdouble-charge\b[^\]]*\]", t)]
    assert found, texts
    text = found[0]
    assert text.startswith("fracas: "), text[:200]  # the witness leads
    # no shrinking here (FIND): the steps are the first failing example's, the drop among them
    steps = text.split("\nmachine steps: ", 1)[1]
    assert "arm drop payment on the next order's POST payment/payments" in steps, steps
    failing = [r for _, r in fracas.results if not r.ok]
    assert failing and failing[0].replay_path is not None
    replay = load_replay(failing[0].replay_path)  # the steps as a schedule fracas replays
    assert any(rule == "double-charge" for rule, _ in replay.violations)
    drops = [f.fault for f in replay.schedule.faults if f.fault["kind"] == "drop"]
    assert any(d["params"]["path"] == "/payments" for d in drops), drops


def test_one_example_by_hand_is_consistent_on_the_bundled_orchestrator(start_topology) -> None:
    """The engine's verbs in a fixed order: a fault armed on the capture, a crash of the
    orchestrator while the order is held up, a restart, settle: consistent, and the
    armed fault really landed on the order it was aimed at."""
    topo = start_topology()
    run = StatefulRun(topo, settle_seconds=30)
    try:
        run.arm(
            {"kind": "drop", "target": "@step"}, ("payment", "POST", "/payments"), "after_commit"
        )
        oid = run.submit("ok")
        run.crash("orchestrator")
        assert not run.up("orchestrator")
        run.restart("orchestrator")
        assert run.up("orchestrator")
        result = run.settle()
    finally:
        run.cleanup()
        run.close()
    result.assert_consistent()
    assert result.statuses == {oid: "completed"}
    assert result.fired("drop", "payment") == 1
    kinds = [f["fault"]["kind"] for f in result.schedule.to_json()["faults"]]
    assert kinds == ["drop", "kill"]


def test_strategies_respect_capabilities() -> None:
    """No review orders without review, no review timeouts without a clock, no process
    faults on an orchestrator that does not allow them: no false alarms by construction."""
    assert "review_timeout" not in allowed_intents(frozenset({"crash", "review"}))
    assert "review_approve" in allowed_intents(frozenset({"review"}))
    assert not any(i.startswith("review") for i in allowed_intents(frozenset()))
    assert "review_timeout" in allowed_intents(frozenset({"review", "advance_clock"}))
    plain = landing_faults(frozenset(), ("payment",))
    assert not any(f["target"] == "orchestrator" for f in plain)
    full = landing_faults(frozenset({"crash", "restart"}), ("payment",))
    assert {"kind": "kill", "target": "orchestrator"} in full
