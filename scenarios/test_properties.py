"""Property-based chaos: Hypothesis draws orders and fault schedules, fracas runs them,
and any inconsistency is shrunk to the smallest run that still shows it.

How many runs: the Hypothesis profile, `ci` by default (`--hypothesis-profile dev`
or `soak` for more)."""

from hypothesis import given

from harness.strategies import workloads


@given(workload=workloads(max_orders=5, max_faults=2))
def test_any_schedule_keeps_orders_consistent(fracas, workload):
    fracas.run(workload.plans, workload.schedule, settle_seconds=45).assert_consistent()
