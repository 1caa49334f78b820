"""Process faults: the process verbs (SIGKILL, SIGSTOP/SIGCONT, restart) by target name."""

from __future__ import annotations

import collections
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


#: How often a message fault's watcher killed each process (by ``id``), read by a heal
#: that waits for it: a kill it did not see coming is a fault acting, not the process
#: failing to come back.
_FAULT_KILLS: collections.Counter[int] = collections.Counter()
#: How often a heal starts a process again that a message fault killed as it came up. A
#: crash toxic fires once per application, so a second start is enough; the spare ones
#: cover faults applied side by side.
RESTARTS_AFTER_FAULT_KILL = 3


def kill_by_fault(proc: ProcessHandle) -> None:
    """SIGKILL from a message fault's watcher, counted for ``ensure_running``."""
    with LIFECYCLE:
        _FAULT_KILLS[id(proc)] += 1
        proc.kill()


def ensure_running(target: str, proc: ProcessHandle, ctx: FaultContext) -> None:
    """Running, unpaused and healthy, whatever state it was left in.

    A participant that does not come back healthy here is not the heal's failure: a
    message fault's watcher may kill it again as it binds, or a network fault this
    nemesis thread has yet to heal keep it from the broker (each ended a search with no
    verdict). The runner waits for every participant once every fault is healed, and
    fails the run then if one cannot come up.

    Any other target (a hybrid's orchestrator, whose end events a crash fault is aimed
    at) that a message fault killed while this heal waited is started again: its
    recovery published the aimed event (a soak slice ended with no verdict so). One that
    exits by itself, or does not come up in time, fails the heal."""
    for attempt in range(RESTARTS_AFTER_FAULT_KILL + 1):
        with LIFECYCLE:
            if not proc.alive:
                proc.start()
            elif attempt == 0:
                proc.resume()  # SIGCONT to a running process is harmless; a stale flag is not
                return
            kills = _FAULT_KILLS[id(proc)]
        try:
            ctx.wait_healthy(target)
            return
        except ProcessFailed:
            if target.startswith(PARTICIPANT):
                return
            if _FAULT_KILLS[id(proc)] == kills or attempt == RESTARTS_AFTER_FAULT_KILL:
                raise


def restart(target: str, proc: ProcessHandle, ctx: FaultContext, crash: bool) -> None:
    """Kill (or stop) and start again, then wait for health. A participant that does not
    come up here is, as in ``ensure_running``, another fault acting: a death (a message
    fault's watcher) aimed at the event the restarted participant is given again kills
    it as it comes up (a dev search ended with no verdict so, a restart and a death on
    payment in one pack), or a cut link keeps it from the broker. The heals bring it
    back, and the runner fails the run if it cannot come up once every fault is healed.
    Any other target fails the restart unless a message fault killed it meanwhile."""
    kills = _FAULT_KILLS[id(proc)]
    proc.restart(crash=crash)
    try:
        ctx.wait_healthy(target)
    except ProcessFailed:
        if not target.startswith(PARTICIPANT) and _FAULT_KILLS[id(proc)] == kills:
            raise


class ProcessFault(Fault):
    """Heal is the same for every process fault: the target is running and healthy."""

    family = "process"
    spills = True

    def heal(self, ctx: FaultContext) -> None:
        ensure_running(self.target, process_of(self, ctx), ctx)
