"""What pytest made of each run's test, and the session a report index describes.

A run can be consistent while its test failed (the scenario's own assertion, a fired()
check), and a Hypothesis test makes many runs of which the last is the falsifying
example. The index shows both, so a failed test is never listed as "consistent".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TestOutcome:
    """``outcome`` is pytest's (passed, failed, skipped). ``final``: the last run the test
    made, the one its failure belongs to (earlier runs of a failed Hypothesis test are
    examples it tried on the way). ``violation``: the failure was the consistency check."""

    __test__ = False  # not a test class, whatever pytest's collector thinks of the name

    test: str
    outcome: str
    message: str = ""
    violation: bool = False
    final: bool = True

    @property
    def failed(self) -> bool:
        return self.outcome == "failed" and self.final

    def label(self) -> str:
        if self.outcome != "failed":
            return self.outcome
        if not self.final:
            return "earlier example of a failed test"
        return "failed: consistency violation" if self.violation else "failed: assertion"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label()}


@dataclass(frozen=True)
class SessionInfo:
    """The suite as run: shown at the top of the index so a reader knows what was tested."""

    orchestrator: str = ""
    seed: int | None = None
    profile: str = ""
    fault_backend: str = ""
    started: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
