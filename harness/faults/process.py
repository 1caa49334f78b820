"""Process faults: the process verbs (SIGKILL, SIGSTOP/SIGCONT, restart) by target name."""

from __future__ import annotations

import threading

from fracas.harness.faults.base import Fault, missing_target
from fracas.harness.faults.context import FaultContext
from fracas.harness.kit.procs import ProcessHandle


def process_of(fault: Fault, ctx: FaultContext) -> ProcessHandle:
    proc = ctx.process(fault.target)
    if proc is None:
        raise missing_target(fault, ctx, "process", "process started by fracas")
    return proc


#: Held while a process is brought back (started, then waited healthy) and while a
#: message fault's watcher acts on one (``message.ProcessMessageFault``): the nemesis's
#: thread heals and the watchers' threads kill or pause, and a crash fault that fired on
#: a restarted participant's first ack killed it in the middle of another fault's heal,
#: which then failed the run with no verdict (a NemesisError, in a search's shrink).
LIFECYCLE = threading.RLock()


def ensure_running(target: str, proc: ProcessHandle, ctx: FaultContext) -> None:
    """Running, unpaused and healthy, whatever state it was left in."""
    with LIFECYCLE:
        if proc.alive:
            proc.resume()  # SIGCONT to a running process is harmless; a stale flag is not
            return
        proc.start()
        ctx.wait_healthy(target)


def start_again(proc: ProcessHandle) -> None:
    """Running and unpaused, without waiting for it to be healthy: a participant is
    healthy once bound to the broker, which a network fault the same nemesis thread has
    yet to heal may keep out of reach (a heal that waited failed a clean search with no
    verdict, 1 in 5). The runner waits for every process once every fault is healed."""
    with LIFECYCLE:
        if proc.alive:
            proc.resume()
        else:
            proc.start()


class ProcessFault(Fault):
    """Heal is the same for every process fault: the target is running and healthy."""

    family = "process"

    def heal(self, ctx: FaultContext) -> None:
        ensure_running(self.target, process_of(self, ctx), ctx)
