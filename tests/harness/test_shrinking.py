"""What shrinking spends runs on (harness/search/shrinking.py): before a failure every
case runs; after it, a case no smaller (orders plus faults) than one that failed is not
run (same-size steps walked a liveness search through 19 runs of the same orders failing
the same way), a confirmed case runs without a second run, and past the deadline no new
case runs. Nothing here starts a process."""

from __future__ import annotations

from fracas.harness.search.shrinking import Shrinking


def test_before_a_failure_every_case_runs_once() -> None:
    s = Shrinking(seconds=40)
    assert s.worth_running("case-a", "shape-1", 6, now=0)
    assert s.worth_running("case-b", "shape-1", 6, now=0)
    assert not s.needs_confirming("case-a")  # generation's find is reported as it failed


def test_after_a_failure_only_smaller_cases_run_and_are_confirmed() -> None:
    s = Shrinking(seconds=40)
    s.failed_with("case-a", "shape-1", 4, now=100)
    assert not s.worth_running("case-a-other-names", "shape-1", 4, now=101)
    assert not s.worth_running("case-a-other-intents", "shape-2", 4, now=101)
    assert s.worth_running("case-a", "shape-1", 4, now=101)  # Hypothesis's last replay
    assert not s.needs_confirming("case-a")
    assert s.worth_running("case-b", "shape-3", 3, now=101)
    assert s.needs_confirming("case-b")
    s.failed_with("case-b", "shape-3", 3, now=110)
    assert not s.worth_running("case-c", "shape-4", 3, now=111)
    assert s.worth_running("case-d", "shape-5", 2, now=111)
    assert not s.needs_confirming("case-b")


def test_a_case_of_one_order_and_one_fault_shrinks_no_further() -> None:
    s = Shrinking(seconds=40)
    s.failed_with("case-a", "shape-1", 2, now=100)
    assert not s.worth_running("case-ok-intent", "shape-2", 2, now=100.5)


def test_past_the_deadline_only_confirmed_cases_run() -> None:
    s = Shrinking(seconds=40)
    s.failed_with("case-a", "shape-1", 4, now=100)
    assert s.worth_running("case-c", "shape-3", 3, now=140)
    assert not s.worth_running("case-c", "shape-3", 3, now=140.5)
    assert s.worth_running("case-a", "shape-1", 4, now=1000)


def test_once_the_case_is_as_small_as_it_gets_only_confirmed_cases_run() -> None:
    """One order, none of whose faults can go (split.thinned): a liveness search then
    spent 10 to 20 s on Hypothesis's other one-order cases, each a run, none a smaller
    form of the find."""
    s = Shrinking(seconds=40)
    s.failed_with("whole", "shape-1", 13, now=100)
    s.failed_with("part", "shape-2", 3, now=120)
    assert s.worth_running("other", "shape-3", 2, now=121)  # within the 40 s
    s.enough(now=121)
    assert not s.worth_running("other", "shape-3", 2, now=121.5)
    assert s.worth_running("part", "shape-2", 3, now=200)  # Hypothesis's last replay


def test_a_race_by_nature_counts_one_more_so_the_case_without_it_runs() -> None:
    """The opposite review decision sent while the saga runs is a race; sent after the
    order ended it is not. Reported at one order and one fault, the racing case replayed
    1 time in 5 and the other was never run: it was no smaller."""
    from fracas.harness.run.schedule import parse_schedule
    from fracas.harness.run.workload import orders
    from fracas.harness.search.shrinking import races_in, size_of

    plans = orders(1, seed=0, intents=("review_approve",))

    def flip(after_done: bool) -> object:
        return parse_schedule([{"fault": {"kind": "review_flip", "target": "orchestrator",
                                          "params": {"order_id": plans[0].order_id,
                                                     "decision": "approve",
                                                     "after_done": after_done}},
                                "at": 0}])  # fmt: skip

    racing, settled = flip(False), flip(True)
    assert races_in(racing) and not races_in(settled)
    assert (size_of(plans, racing), size_of(plans, settled)) == (3, 2)
    s = Shrinking(seconds=40)
    s.failed_with("racing", "shape-1", size_of(plans, racing), now=100)
    assert s.worth_running("settled", "shape-2", size_of(plans, settled), now=101)
