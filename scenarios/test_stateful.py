"""The stateful scenario: a Hypothesis state machine drives one live topology.

Rules: submit an order, arm a fault on a step of the next order, crash or restart the
orchestrator or a fake, heal, answer a review, advance the clock (only with a clock),
settle. Every checker runs after each settle and at the end of each example; a
violation fails with the witness first, then the steps Hypothesis shrank it to.
The engine is harness/search/stateful.py; how many steps and examples: the Hypothesis profile
(``ci`` by default, ``--hypothesis-profile dev`` or ``soak`` for more).
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from fracas.harness.search.stateful import machine_for


def test_state_machine_keeps_orders_consistent(fracas):
    run_state_machine_as_test(machine_for(fracas), settings=settings())
