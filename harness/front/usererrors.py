"""Errors that mean the user gave fracas something wrong (a schedule, an order plan, an
orchestrator spec, a replay file). The pytest plugin prints them as their message alone:
the harness frames under them would only hide the one line that says what to fix."""

from __future__ import annotations


def user_error_types() -> tuple[type[BaseException], ...]:
    """Imported late: each lives with the code that validates that kind of input."""
    from fracas.harness.adapters.base import AdapterError
    from fracas.harness.faults.base import FaultValidationError
    from fracas.harness.run.schedule import ScheduleError
    from fracas.harness.run.workload import WorkloadError

    return (AdapterError, FaultValidationError, ScheduleError, WorkloadError)


def is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, user_error_types())


def short_text(exc: BaseException) -> str:
    """``fracas: <Kind>: <message>``, the whole report of a user mistake."""
    return f"fracas: {type(exc).__name__}: {exc}"
