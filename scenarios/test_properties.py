"""Property-based chaos: Hypothesis draws orders and fault schedules, fracas runs them,
and any inconsistency is shrunk to the smallest run that still shows it.

Every fault is aimed at a step of an order in the workload, and only what the
orchestrator under test can do is drawn (its capabilities, read at run time). Waits are
drawn at the orchestrator's own scale, up to and past its call timeout. A run where no
fault fired is discarded, not counted as a pass.

The first examples follow a coverage plan (harness/search/plan.py): every intent, then
every step x fault group x phase, then combinations of faults; no two examples of a run
have the same shape. How many runs: the Hypothesis profile, `ci` by default
(`--hypothesis-profile dev` or `soak` for more), shared by the test's slices
(``fracas_slice``, harness/run/slices.py): each slice is its own pytest test with its own
Hypothesis seed and its own share of the plan's cells, so `-n N` workers and `--shard K/N`
machines split the examples without repeating each other. The plan depends only on the
seed and the slice, never on what ran before, so Hypothesis can replay and shrink.

Shrinking spends runs only on what can make the case smaller (harness/search/shrinking.py):
a candidate with no fewer orders plus faults than a case that failed is not run, a case
already confirmed is not run twice, and after ``SHRINK_SECONDS`` the smallest confirmed
case is reported. One whose failure may hang on timing (a fault that spills: a kill, a
pause, a cut link) runs a few more times first, and a racy one gives way to a steady
neighbour if one fails every time (harness/search/steady.py), as does a find that never
failed again."""

import warnings

from hypothesis import given, note, reject
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure

from fracas.harness.adapters.base import call_timeout
from fracas.harness.kit.timescale import scaled
from fracas.harness.run.shape import shape_key, shape_of
from fracas.harness.search.messages import message_aim
from fracas.harness.search.shrinking import Shrinking, races_in, size_of
from fracas.harness.search.split import first_find
from fracas.harness.search.steady import REPLAYS, steadied, steady_neighbour
from fracas.harness.search.strategies import planner_for, workloads

#: Seconds the shrinker may spend running cases after the first failure, before the
#: time scale. Each step that shrinks a liveness failure costs two runs that wait out
#: the quiet period; past this, the smallest case that failed twice is reported.
SHRINK_SECONDS = 40.0


def _smallest(found):
    """The smallest case that failed (the latest of that size): what the report shows."""
    return min(reversed(found), key=lambda sized: sized[0])[1]


def _cause(result):
    """Why a failure may not happen again: a race the schedule holds, else timing."""
    races = result.history.races()
    if races:
        return f"its faults include a race by nature, {'; '.join(races)}: either branch may win"
    return "it depends on timing"


class ShortSearch(UserWarning):
    """A search that passed with fewer examples than its budget."""


def _say_if_short(fracas_slice, ran, failed):
    """A search that passed on fewer examples than its budget says so: Hypothesis ends
    generation after 458 + 100 per example rejected draws, and the run table only showed
    fewer runs (a one-slice search once ran 12 of 20 and passed, silently)."""
    if failed or ran >= fracas_slice.examples:
        return
    warnings.warn(ShortSearch(
        f"{fracas_slice}: {ran} examples of its {fracas_slice.examples} ran and passed. "
        "Hypothesis stopped generating early: too many draws were rejected (cells of the "
        "plan this orchestrator's capabilities cannot build, or runs where no fault "
        "fired), or every shape was run. Check the capabilities it declares, or run more "
        "slices (--slices) or a larger profile; a plan that keeps ending short is a bug "
        "of fracas's search worth reporting."), stacklevel=2)  # fmt: skip


def test_any_schedule_keeps_orders_consistent(fracas, fracas_slice):
    found = []  # (size, failing run), in order: the first is what generation found, then
    # the smallest part of it that failed twice (harness/search/split.py), then the
    # shrinker's smaller cases, each of which failed twice
    failures = {}  # case (as drawn) -> (its last failing run, how many of its runs failed)
    unrepeated = []  # failures that did not happen again, alone or whole (see below)
    together = []  # big failures that happened again whole, but no part of them alone
    passed = []  # examples that ran, had a fault fire and passed
    witness = {}  # smallest confirmed run -> (the run reported for it, what to say)
    shrinking = Shrinking(scaled(SHRINK_SECONDS))
    caps = fracas.orchestrator.capabilities
    choreography = message_aim(fracas.topology)
    if choreography is not None:  # a broker the fault proxy reads: message faults too
        caps = caps | {"messages"}
    timeout = call_timeout(fracas.orchestrator)
    planner = planner_for(fracas.seed, fracas_slice.index, fracas_slice.count, caps,
                          replays=fracas_slice.replays, choreography=choreography)  # fmt: skip
    strategy = workloads(
        seed=fracas.seed, max_orders=5, max_faults=2, capabilities=caps,
        call_timeout=timeout, planner=planner, choreography=choreography,
    )  # fmt: skip

    def run_case(plans, schedule):
        return fracas.run(plans, schedule, settle_seconds=45)

    def reported():
        """The smallest confirmed case, or the steady neighbour it gave way to."""
        smallest = _smallest(found)
        return witness[id(smallest)][0] if id(smallest) in witness else smallest

    def steady():
        """At the report: replay a case that may be a race, and take a steady
        neighbour's run in its place if it is one (harness/search/steady.py)."""
        smallest = _smallest(found)
        if id(smallest) not in witness:  # (once per case: Hypothesis may ask again)
            result, failed, runs = steadied(smallest.plans, smallest.schedule, smallest,
                                            run_case, choreography)  # fmt: skip
            said = None
            if failed < runs:
                said = (f"fracas: the case reported failed {failed} of {runs} runs "
                        f"({_cause(result)}), and no order of it alone failed every time "
                        "with one of its events held back: a replay may pass.")  # fmt: skip
            witness[id(smallest)] = (result, said)
        said = witness[id(smallest)][1]
        if said:
            note(said)  # Hypothesis prints the notes of its final replay only

    @given(data=st.data())
    def search(data):
        planner.begin()
        workload = data.draw(strategy, label="workload")
        drawn = repr((workload, [p.order for p in workload.plans]))  # details included
        shape = shape_key(shape_of(workload.plans, workload.schedule, timeout))
        size = size_of(workload.plans, workload.schedule)
        if not shrinking.worth_running(drawn, shape, size):
            reject()  # no smaller than a case that failed, or out of time
        known, times = failures.get(drawn, (None, 0))
        if known is not None and times >= 2:
            # Hypothesis asks again for a case that already failed twice (its last
            # replay, after a find that did not shrink): a liveness run costs 20 s.
            steady()
            reported().assert_consistent()

        def run(plans=workload.plans, schedule=workload.schedule):
            return run_case(plans, schedule)

        result = run()
        if result.ok and not any(result.entry_hits.values()):
            reject()  # no fault fired on anything: not a pass, not a test
        confirming = shrinking.needs_confirming(drawn)
        if not result.ok and confirming and run().ok:
            # While shrinking, a case counts as failing only if it fails again: one that
            # fails now and then (a crash racing another order's step) would become the
            # reported case, and neither Hypothesis's last replay nor `fracas replay`
            # would show it.
            return
        if not result.ok:
            first = not shrinking.found
            what, part = first_find(workload.plans, workload.schedule, run, result) if first else ("", None)
            if what == "unrepeated":
                # No order alone fails, and the whole case passed when run again: the
                # failure hangs on timing between its orders (a crash one order's step
                # set off, landing on another's retry). Hypothesis could neither shrink
                # nor replay it, and the search would end on it; keep it, and report it
                # only if the rest of the budget finds nothing that fails again.
                unrepeated.append(result)
                return
            if what == "together":
                # It failed again whole, but no order of it alone (nor with its
                # customer's, or only with more orders than a glance reads): its orders'
                # timing meets. Hypothesis rarely makes such a case smaller; the plan
                # may still hold a small shape of the same defect.
                together.append(part[2] if part is not None else result)
                return
            again = what == "again"
            failures[drawn] = (result, 2 if confirming or again else times + 1)
            found.append((size, result))
            shrinking.failed_with(drawn, shape, size)
            planner.stop()  # Hypothesis shrinks from here: every draw it asks for runs
            if part is not None:  # one order of the pack, alone with the faults it needs
                plans, schedule, part_result = part
                failures[drawn] = (result, 2)  # its part failed twice: no need to rerun it
                part_size = size_of(plans, schedule)
                found.append((part_size, part_result))
                shrinking.failed_with(repr(plans), shape_key(shape_of(plans, schedule, timeout)),
                                      part_size)  # fmt: skip
                if len(plans) == 1 and not races_in(schedule):
                    shrinking.enough()  # one order, thinned: no fault of it can go
            reported().assert_consistent()
        result.assert_consistent()
        passed.append(shape)

    try:
        fracas_slice.apply(search, own_simplest=True)()
        _say_if_short(fracas_slice, len(set(passed)), found or together or unrepeated)
        for racy in (together, unrepeated):
            steady_run = racy and steady_neighbour(racy[0].plans, racy[0].schedule, racy[0],
                                                   run_case, choreography)  # fmt: skip
            if steady_run:
                # Nothing in the budget shrank (the find failed again only whole, or
                # never), but one order of it alone, with one of its events held back,
                # fails every time: that is reported, and it replays
                # (harness/search/steady.py).
                raise AssertionError(
                    f"found a violation that hangs on timing ({_cause(racy[0])}), with "
                    f"{len(racy[0].plans)} orders; one of them alone, with one of its events "
                    f"held back, failed each of {REPLAYS + 2} runs, and is reported:\n"
                    + steady_run.failure_text()
                ) from None
        if together:
            # Nothing smaller in the whole budget: the find is reported as it failed.
            raise AssertionError(
                f"found a violation that failed again with {len(together[0].plans)} "
                f"orders, but not with fewer ({_cause(together[0])}), and nothing "
                "smaller in the rest of the search, so it is reported so:\n"
                + together[0].failure_text()
            ) from None
        if unrepeated:
            # Nothing that failed twice in the whole budget: the find that did not
            # happen again is still a find, with its witness and replay file.
            raise AssertionError(
                "found a violation that did not reproduce when Hypothesis replayed it "
                f"({_cause(unrepeated[0])}; nor did any of its orders alone with its "
                "faults), and nothing in the rest of the search that did, so it was not "
                "shrunk:\n" + unrepeated[0].failure_text()
            ) from None
    except FlakyFailure as flaky:
        if not found:
            raise  # not a violation that went away (e.g. a time limit): show it as is
        why = str(flaky).splitlines()[0] if str(flaky) else type(flaky).__name__
        # The failure did not happen again when Hypothesis replayed it: it is still a
        # failure the search found, with its witness and replay file, not a crash. The
        # smallest case that failed twice is shown, else the one generation found. A
        # case whose fault is a race by nature is expected to do this, and says so.
        cause = _cause(found[-1])
        if len(found) > 1:
            head = (
                "found a violation and shrank it to a case that failed twice, but that case "
                f"did not reproduce when Hypothesis replayed it ({cause}), so shrinking "
                f"stopped there ({why})"
            )
        else:
            head = (
                "found a violation that did not reproduce when Hypothesis replayed it "
                f"({cause}), so it was not shrunk ({why})"
            )
        raise AssertionError(head + ":\n" + reported().failure_text()) from None
