"""The orchestrator's notion of wall time, which a test may fast-forward.

Only business deadlines (the review timeout) read this clock; retry back-off and HTTP
timeouts are about real networks and always use real time. The offset a test added is
persisted by the caller, so a restarted orchestrator keeps the time it was advanced to.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    def __init__(self, offset: float = 0.0, adjustable: bool = False) -> None:
        self.offset = offset
        self.adjustable = adjustable
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> float:
        if not self.adjustable:
            raise PermissionError("the clock is only adjustable with --test-clock")
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds
        for listener in list(self._listeners):
            listener()
        return self.now()

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
