"""Process faults: the process verbs (SIGKILL, SIGSTOP/SIGCONT, restart) by target name."""

from __future__ import annotations

import threading

from fracas.harness.faults.base import Fault, missing_target
from fracas.harness.faults.context import FaultContext
from fracas.harness.kit.procs import ProcessFailed, ProcessHandle


def process_of(fault: Fault, ctx: FaultContext) -> ProcessHandle:
    proc = ctx.process(fault.target)
    if proc is None:
        raise missing_target(fault, ctx, "process", "process started by fracas")
    return proc


PARTICIPANT = "participant:"

#: Held while a process is started or resumed and while a message fault's watcher acts
#: on one (``message.ProcessMessageFault``), so a kill never lands inside a start. Not
#: held while a heal waits for health: a message fault's toxic can hold a restarted
#: participant back until its watcher kills it, and a wait under the lock waited out its
#: whole timeout (3 soak slices of 8 ended with no verdict).
LIFECYCLE = threading.RLock()


def ensure_running(target: str, proc: ProcessHandle, ctx: FaultContext) -> None:
    """Running, unpaused and healthy, whatever state it was left in.

    A participant that does not come back healthy here is not the heal's failure: a
    message fault's watcher may kill it again as it binds, or a network fault this
    nemesis thread has yet to heal keep it from the broker (each ended a search with no
    verdict). The runner waits for every participant once every fault is healed, and
    fails the run then if one cannot come up."""
    with LIFECYCLE:
        if proc.alive:
            proc.resume()  # SIGCONT to a running process is harmless; a stale flag is not
            return
        proc.start()
    try:
        ctx.wait_healthy(target)
    except ProcessFailed:
        if not target.startswith(PARTICIPANT):
            raise


class ProcessFault(Fault):
    """Heal is the same for every process fault: the target is running and healthy."""

    family = "process"

    def heal(self, ctx: FaultContext) -> None:
        ensure_running(self.target, process_of(self, ctx), ctx)
