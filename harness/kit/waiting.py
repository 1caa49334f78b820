"""Waiting on a condition with a deadline: the only way fracas synchronises.

A sleep that stands in for synchronisation makes tests flaky on a loaded machine;
polling a condition until a deadline makes them both fast and honest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """The condition did not hold before the deadline."""


def wait_until(
    condition: Callable[[], T | None],
    timeout: float,
    interval: float = 0.01,
    what: str = "condition",
    fatal: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll `condition` until it returns a truthy value, and return that value.

    Exceptions raised by the condition count as "not yet" (the last one is chained
    onto the DeadlineExceeded so the cause of a hang is visible), except those in
    `fatal`, which mean "never" and propagate at once.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    delay = min(interval, 0.005)
    while True:
        try:
            value = condition()
            if value:
                return value
        except fatal:
            raise
        except Exception as exc:  # noqa: BLE001 - "not yet" by design
            last_exc = exc
        if time.monotonic() >= deadline:
            raise DeadlineExceeded(f"{what} did not hold within {timeout:.1f}s") from last_exc
        time.sleep(delay)
        delay = min(delay * 2, interval)
