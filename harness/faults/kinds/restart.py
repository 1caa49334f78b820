"""A crash and a recovery in one step: what survives must have been committed."""

from __future__ import annotations

from fracas.harness.faults.base import Param, register
from fracas.harness.faults.context import FaultContext
from fracas.harness.faults.process import ProcessFault, process_of, restart


@register
class Restart(ProcessFault):
    kind = "restart"
    kills = True
    summary = "kill (or stop) the target and start it again on the same state dir"
    params_spec = (
        Param(
            "graceful",
            "bool",
            "true: SIGTERM and let it shut down; false: SIGKILL, a crash",
            default=False,
        ),
    )

    def apply(self, ctx: FaultContext) -> None:
        restart(self.target, process_of(self, ctx), ctx, crash=not self.params["graceful"])
