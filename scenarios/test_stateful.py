"""The stateful scenario: a Hypothesis state machine drives one live topology.

Rules: submit an order, arm a fault on a step of the next order, crash or restart the
orchestrator or a fake, heal, answer a review, advance the clock (only with a clock),
settle. Every checker runs after each settle and at the end of each example; a
violation fails with the witness first, then the steps Hypothesis shrank it to.
The engine is harness/stateful.py; how many steps and examples: the Hypothesis profile
(``ci`` by default, ``--hypothesis-profile dev`` or ``soak`` for more).
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from harness.report.text import ConsistencyError
from harness.runner import REVIEW_TIMEOUT_JUMP
from harness.scenario import Fracas
from harness.stateful import PHASES, STEPS, StatefulRun, allowed_intents, landing_faults


def machine_for(fracas: Fracas) -> type[RuleBasedStateMachine]:
    """The machine's strategies depend on what this orchestrator can do."""
    caps = frozenset(fracas.orchestrator.capabilities)
    intents = allowed_intents(caps)

    class SagaMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.run = StatefulRun(fracas.topology, seed=fracas.seed)

        @precondition(lambda self: self.run.can_submit())
        @rule(intent=st.sampled_from(intents))
        def submit(self, intent: str) -> None:
            self.run.submit(intent)

        @precondition(lambda self: len(self.run.armed) < 2 and self.run.can_submit())
        @rule(
            fault=st.sampled_from(landing_faults(caps, tuple(fracas.topology.fakes))),
            step=st.sampled_from(STEPS),
            phase=st.sampled_from(PHASES),
        )
        def inject(self, fault: dict[str, Any], step: tuple[str, str, str], phase: str) -> None:
            self.run.arm(fault, step, phase)

        @precondition(lambda self: bool(self.run.plans))
        @rule(data=st.data())
        def crash(self, data: st.DataObject) -> None:
            up = [t for t in self.run.targets if self.run.up(t)]
            if up:
                self.run.crash(data.draw(st.sampled_from(up), label="target"))

        @precondition(lambda self: bool(self.run.plans) and "restart" in caps)
        @rule(data=st.data())
        def restart(self, data: st.DataObject) -> None:
            self.run.restart(data.draw(st.sampled_from(self.run.targets), label="target"))

        @precondition(lambda self: bool(self.run.active))
        @rule()
        def heal(self) -> None:
            self.run.heal()

        @precondition(lambda self: "review" in caps and bool(self.run.plans))
        @rule()
        def review(self) -> None:
            self.run.review()

        @precondition(lambda self: "advance_clock" in caps and self.run.up("orchestrator"))
        @rule(seconds=st.sampled_from((60.0, 3600.0, REVIEW_TIMEOUT_JUMP)))
        def advance_clock(self, seconds: float) -> None:
            self.run.advance_clock(seconds)

        @precondition(lambda self: self.run.dirty)
        @rule()
        def settle(self) -> None:
            self._check()

        def _check(self) -> None:
            result = self.run.settle()
            fracas.keep(result)
            if not result.ok:
                text = result.failure_text() + "\nmachine steps: " + "; ".join(self.run.steps)
                raise ConsistencyError(result.verdict, text)

        def teardown(self) -> None:
            try:
                if self.run.plans and self.run.dirty:
                    self._check()
            finally:
                self.run.cleanup()
                self.run.close()

    return SagaMachine


def test_state_machine_keeps_orders_consistent(fracas):
    run_state_machine_as_test(machine_for(fracas), settings=settings())
