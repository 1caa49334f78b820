"""A frozen process (SIGSTOP): connections open but nothing answers, like a long GC pause."""

from __future__ import annotations

from fracas.harness.faults.base import register
from fracas.harness.faults.context import FaultContext
from fracas.harness.faults.process import ProcessFault, process_of


@register
class Pause(ProcessFault):
    kind = "pause"
    summary = "SIGSTOP the target; heal sends SIGCONT"
    params_spec = ()

    def apply(self, ctx: FaultContext) -> None:
        process_of(self, ctx).pause()
