"""Property-based chaos: Hypothesis draws orders and fault schedules, fracas runs them,
and any inconsistency is shrunk to the smallest run that still shows it.

Every fault is aimed at a step of an order in the workload, and only what the
orchestrator under test can do is drawn (its capabilities, read at run time). A run
where no fault fired is discarded, not counted as a pass. Each run's fault coverage
goes into its slice's map, and Hypothesis is steered toward cells that slice has not hit
yet and toward trouble (retries, compensations, unknown outcomes).

How many runs: the Hypothesis profile, `ci` by default (`--hypothesis-profile dev`
or `soak` for more), shared by the test's slices (``fracas_slice``, harness/run/slices.py):
each slice is its own pytest test with its own Hypothesis seed, so `-n N` workers and
`--shard K/N` machines split the examples without repeating each other. The steering map
is the slice's own, so a slice draws the same examples whichever worker or shard runs it."""

from hypothesis import given, reject, target
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure

from fracas.harness.model.coverage import CoverageMap, run_coverage
from fracas.harness.search.strategies import workloads

COMPENSATIONS = ("/refunds", "/release", "/cancel")


def trouble(result) -> int:
    """Signals that the faults got in the orchestrator's way."""
    unknown = sum(1 for op in result.history.ops() if op.outcome == "unknown")
    compensations = sum(
        1
        for entries in result.history.journals.values()
        for e in entries
        if str(e.get("path", "")).endswith(COMPENSATIONS)
    )
    return result.retries + unknown + compensations


def test_any_schedule_keeps_orders_consistent(fracas, fracas_slice):
    found = []  # failing runs, in order: the first is what generation found, then the
    # shrinker's smaller cases, each of which failed twice
    seen = CoverageMap()  # this slice's: never depends on what ran before it

    @given(data=st.data())
    def search(data):
        workload = data.draw(
            workloads(max_orders=5, max_faults=2, capabilities=fracas.orchestrator.capabilities),
            label="workload",
        )
        def run():
            return fracas.run(workload.plans, workload.schedule, settle_seconds=45)

        result = run()
        if result.ok and not any(result.entry_hits.values()):
            reject()  # no fault fired on anything: not a pass, not a test
        cells = run_coverage(result)
        target(float(seen.new_cells(cells)), label="new coverage cells")
        target(float(trouble(result)), label="trouble")
        seen.add_cells(cells)
        if not result.ok and found and run().ok:
            # While shrinking, a case counts as failing only if it fails again: one that
            # fails now and then (a crash racing another order's step) would become the
            # reported case, and neither Hypothesis's last replay nor `fracas replay`
            # would show it.
            return
        if not result.ok:
            found.append(result)
        result.assert_consistent()

    try:
        fracas_slice.apply(search)()
    except FlakyFailure as flaky:
        if not found:
            raise  # not a violation that went away (e.g. a time limit): show it as is
        why = str(flaky).splitlines()[0] if str(flaky) else type(flaky).__name__
        # The failure did not happen again when Hypothesis replayed it: it is still a
        # failure the search found, with its witness and replay file, not a crash. The
        # smallest case that failed twice is shown, else the one generation found.
        if len(found) > 1:
            head = (
                "found a violation and shrank it to a case that failed twice, but that case "
                "did not reproduce when Hypothesis replayed it (it depends on timing), so "
                f"shrinking stopped there ({why})"
            )
        else:
            head = (
                "found a violation that did not reproduce when Hypothesis replayed it (it "
                f"depends on timing), so it was not shrunk ({why})"
            )
        raise AssertionError(head + ":\n" + found[-1].failure_text()) from None
