"""Keep the event loop polling for a moment after traffic, as Go's scheduler does.

On a small VM an idle vCPU halts, and waking it costs tens of microseconds per hop. A
proxy is a third process in every round trip, so it pays that twice per exchange: on
this 2-core machine it was +90 µs p50 when idle against +10 µs when the same code ran
pinned to one core. Real toxiproxy hides it because Go spins its threads before
parking them. After each chunk the loop stays hot for ``spin_us`` (by rescheduling a
no-op with ``call_soon``, so the loop polls with a zero timeout), and the answer that
comes straight back is picked up without a wake-up. Cost: at most ``spin_us`` of CPU
per burst of traffic, nothing when idle; 0 turns it off.
"""

from __future__ import annotations

import asyncio
import time


class Spinner:
    def __init__(self, spin_us: float = 0.0) -> None:
        self.window = max(0.0, spin_us) / 1e6
        self._until = 0.0
        self._on = False

    def touch(self) -> None:
        """Called on traffic: keep polling until `window` after now."""
        if self.window <= 0.0:
            return
        self._until = time.monotonic() + self.window
        if not self._on:
            self._on = True
            asyncio.get_running_loop().call_soon(self._spin)

    def _spin(self) -> None:
        if time.monotonic() < self._until:
            asyncio.get_running_loop().call_soon(self._spin)
        else:
            self._on = False


#: The process-wide spinner; ``python -m fracas.harness.toxiproxy --spin-us`` configures it.
spinner = Spinner()


def configure(spin_us: float) -> None:
    spinner.window = max(0.0, spin_us) / 1e6
