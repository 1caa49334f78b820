"""What a property search spends on shrinking: runs only where the case can get smaller.

Each run of a case starts real processes, and while shrinking a failing case counts only
if it fails twice (scenarios/test_properties.py), so every step costs two runs, and a
liveness failure waits out a quiet period in each. Measured before (issue 17), a
liveness bug's whole search took 157 to 264 s though each failing run cost 5 to 7 s:
Hypothesis walked the Faker details' seed down, 19 steps in a row with the same orders
failing the same way. So, once a failure is found:

- a case no smaller than the smallest that failed (orders plus faults) is not run: the
  report wants few orders and few faults, and a case of the same size differs only in
  its intents, its faults' kinds or its details (a Faker name, 120 ms or 300 ms), each
  step of which cost two runs of the same size (a case found with one order and one
  fault spent the whole budget so);
- a case already confirmed (Hypothesis replays the smallest one last) is not run twice;
- after ``seconds`` no new case runs, and the smallest confirmed one is reported, as
  Hypothesis itself does after five minutes;
- once a case is as small as shrinking makes it (``enough``: one order, none of whose
  faults can go, search/split.py), no new case runs: what Hypothesis would still try
  is another case of one order and fewer faults, a different one, not a smaller form
  of this. A liveness search spent 10 to 20 s so, each try a run of a second or more.

A case's size (``size_of``) counts a race by nature (a decision racing the saga, say:
``faults/client.py`` ``races``) as one more fault: the same case without the race is
smaller, so it is worth running, and the one it reports replays every time. Counted
as one fault, the opposite review decision sent while the saga ran was reported, and
replayed 1 time in 5, though the same decision sent after the order ended shows the
defect every time: no case of its size was run after it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fracas.harness.faults.client import races


def size_of(plans: Sequence[Any], schedule: Any) -> int:
    """Orders plus faults, and one more for each fault that is a race by nature."""
    return len(plans) + len(schedule) + len(races(e.fault for e in schedule.faults))


def races_in(schedule: Any) -> bool:
    """Whether a schedule holds a race by nature (a smaller case may not)."""
    return bool(races(e.fault for e in schedule.faults))


@dataclass
class Shrinking:
    """One search's failures so far and its shrinking deadline."""

    seconds: float
    #: The shapes (``shape_key``) of the cases that failed.
    failed: set[str] = field(default_factory=set)
    #: The cases that failed, as drawn (``repr`` of the workload).
    confirmed: set[str] = field(default_factory=set)
    until: float | None = None
    #: The smallest size (orders plus faults) of a case that failed.
    smallest: int | None = None

    @property
    def found(self) -> bool:
        return self.until is not None

    def worth_running(self, drawn: str, shape: str, size: int, now: float | None = None) -> bool:
        """Run this case? Always before the first failure and for a confirmed case;
        after it, only a shape not yet failed and smaller than any that did, within
        the deadline."""
        if self.until is None or drawn in self.confirmed:
            return True
        if shape in self.failed or (self.smallest is not None and size >= self.smallest):
            return False
        return (time.monotonic() if now is None else now) <= self.until

    def needs_confirming(self, drawn: str) -> bool:
        """A failure counts while shrinking only if it happens again, unless this very
        case already failed twice (or was generation's find)."""
        return self.found and drawn not in self.confirmed

    def failed_with(self, drawn: str, shape: str, size: int, now: float | None = None) -> None:
        """This case failed (twice, while shrinking): the first failure starts the clock."""
        if self.until is None:
            self.until = (time.monotonic() if now is None else now) + self.seconds
        self.failed.add(shape)
        self.confirmed.add(drawn)
        self.smallest = size if self.smallest is None else min(self.smallest, size)

    def enough(self, now: float | None = None) -> None:
        """The smallest case is as small as it gets: from now on only confirmed cases run."""
        self.until = time.monotonic() if now is None else now
