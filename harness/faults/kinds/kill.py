"""A crash: SIGKILL, nothing flushed; the target stays down until healed."""

from __future__ import annotations

from fracas.harness.faults.base import register
from fracas.harness.faults.context import FaultContext
from fracas.harness.faults.process import ProcessFault, process_of


@register
class Kill(ProcessFault):
    kind = "kill"
    kills = True
    summary = "SIGKILL the target; it stays down until heal starts it on the same state dir"
    params_spec = ()

    def apply(self, ctx: FaultContext) -> None:
        process_of(self, ctx).kill()
