"""A member's family along with it: the other kinds of its family on the same order,
each once, in a drawn order, each left out when its ``presence`` draw says so.
Generation keeps them all (the planner rejects a member left out); shrinking tries
leaving each out first, so a failure sheds the ones it does not need. The HTTP answers
(``strategies``) and the second review decisions (``inputs``) come along so."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis import strategies as st

from fracas.harness.run.schedule import ScheduledFault

#: A presence draw's range: the value 0 leaves a member out. Shrinking tries 0 first;
#: generation should almost never draw it, as every left-out member is a rejected
#: example. Hypothesis draws 0 from ``integers(0, 99)`` about once in 70 (small values
#: and its constants pool are favoured), and a pack draws some twenty presences, so one
#: example in three or more was thrown away; over this range, symmetric about 0, about
#: once in 260.
PRESENCE = 2**40


def presence() -> st.SearchStrategy[bool]:
    """Whether a member (of a pack, or of a member's family) is present."""
    return st.integers(-PRESENCE, PRESENCE).map(bool)


@st.composite
def family(
    draw: st.DrawFn,
    rest: Sequence[str],
    build: Callable[[st.DrawFn, str], ScheduledFault],
) -> tuple[list[ScheduledFault], bool]:
    """``build(draw, kind)`` for each kind of ``rest`` present; also whether all were."""
    out: list[ScheduledFault] = []
    every = True
    for kind in draw(st.permutations(list(rest))):
        if not draw(presence()):
            every = False
            continue
        out.append(build(draw, kind))
    return out, every
