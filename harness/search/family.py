"""A member's family along with it: the other kinds of its family on the same order,
each once, in a drawn order, each left out when its presence draw is 0. Generation
keeps them all (the planner rejects a member left out); shrinking tries 0 first, so a
failure sheds the ones it does not need. The HTTP answers (``strategies``) and the
second review decisions (``inputs``) come along so."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis import strategies as st

from fracas.harness.run.schedule import ScheduledFault


@st.composite
def family(
    draw: st.DrawFn,
    rest: Sequence[str],
    member_draw: int,
    build: Callable[[st.DrawFn, str], ScheduledFault],
) -> tuple[list[ScheduledFault], bool]:
    """``build(draw, kind)`` for each kind of ``rest`` present; also whether all were."""
    out: list[ScheduledFault] = []
    every = True
    for kind in draw(st.permutations(list(rest))):
        if draw(st.integers(0, member_draw - 1)) == 0:
            every = False
            continue
        out.append(build(draw, kind))
    return out, every
