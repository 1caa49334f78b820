"""The stateful scenario: a Hypothesis state machine drives one live topology.

Rules: submit an order, arm a fault on a step of the next order, crash or restart the
orchestrator or a fake, heal, answer a review, advance the clock (only with a clock),
settle. Every checker runs after each settle and at the end of each example; a
violation fails with the witness first, then the steps Hypothesis shrank it to.
The engine is harness/search/stateful.py; how many steps and examples: the Hypothesis profile
(``ci`` by default, ``--hypothesis-profile dev`` or ``soak`` for more), shared by the
test's slices (``fracas_slice``, harness/run/slices.py), which xdist workers and shards split.
"""

from __future__ import annotations

from hypothesis.stateful import run_state_machine_as_test

from fracas.harness.search.stateful import machine_for


def test_state_machine_keeps_orders_consistent(fracas, fracas_slice):
    machine = fracas_slice.apply(machine_for(fracas))
    run_state_machine_as_test(machine, settings=fracas_slice.settings())
