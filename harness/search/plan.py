"""The coverage plan of a property search: which cells the first examples cover, and how
the slices of one run share them out, so that no two examples of a run have one shape.

Left to chance, a 20-example search ran "1 order, ok, a 5xx on payment" in all four of
its slices and no ``undeliverable`` order at all (issue 17). So a search first covers
the space cell by cell, then draws combinations:

1. the *intent* tier: one order of each intent the orchestrator can carry out, with one
   fault on one of its steps (every outcome, failures after an effect included);
2. the *step* tier: each step x fault group x phase the capabilities allow, each cell
   naming the kind it prefers, so a group's cells bring each of its kinds in turn
   (``spread_kinds``);
3. then *free* examples: two or more faults, on one order or on two.

A dev budget is 20 examples and the plan holds some 80 cells (70 of them step cells), so
one cell an example left 5 in 6 step cells unrun, and a defect that only one or two cells
reach (a capture that commits after the client gave up; a crash while refunding) was
found on a lucky seed only. So an example carries a *pack* of cells (``pack_cells``):
up to ``PACK["step"]`` step cells of different steps and fault groups (or
``PACK["intent"]`` intent cells), each on an order of its own, so one fault does not end
the order another fault waits for. The plan's 80 or so cells make 13 or 14 packs
(``PACK``), which a dev budget runs whole. Each member of a pack is drawn present or left out (the value 0 of a
wide integer leaves it out, which generation draws about once in 260 and the
planner rejects, and which shrinking tries first: ``family.presence``), so a failure shrinks to the members
that make it.

The plan is a fixed function of the seed, the capabilities and the fault kinds: each
tier is shuffled by the seed (not ordered for Hypothesis's taste for first elements),
and slice ``i`` of ``S`` takes packs ``i, i + S, ...``. The example's pack is drawn as a
tier, then an index into that tier of its slice's packs (``tier_spans``), so Hypothesis
replays and shrinks it like any draw (toward the first tier, the intent one when the
slice has one). What makes the generated examples follow the plan is the ``Planner``:
while generating, it rejects a draw whose pack is not one the slice has not run yet in
its current tier, or that leaves a member out, a free example whose shape the slice has run (or that belongs to
another slice, by its shape's hash), and nothing once a failure was found (shrinking and
replays must see the same draws as the run that failed). It accepts any cell of the
tier that has not run, not only the tier's next one: a draw hits one given cell of n
once in about 2n tries, and Hypothesis ends a search that rejects 458 draws before its
second example (a one-slice `dev` search of 52 cells ran one example, then stopped).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import reject

from fracas.harness.faults import fault_kinds
from fracas.harness.faults.base import catalog_size
from fracas.harness.run.shape import Shape, shape_key
from fracas.harness.run.workload import INTENTS, REFUSED_AT, REVIEWS
from fracas.harness.search import inputs, messages

#: The fault groups of the step tier: an HTTP rule on the step's request; a ``late``
#: commit (the request is held past the client's call timeout, then committed); a
#: network fault from that request on; a ``crash`` of the orchestrator (killed or
#: restarted, what a saga must survive) or a ``process`` fault on a fake (or a pause of
#: the orchestrator), triggered by that request; a ``client`` input (the orchestrator
#: told something twice, late or changed: harness/faults/client.py), and at the customer
#: step a ``review`` decision sent again, crossed, late or racing the timeout to an order
#: that awaits review (a cell of its own: drawn as one client cell, the decision needed an
#: order of a review intent, 3 in 9, then a decision kind, and a held-out defect that
#: accepts a second decision went unfound on 2 seeds of 2). The orchestrator's
#: crash is a group of its own: among the fakes' kills, pauses and restarts it came up
#: about once in four process faults, and a crash while compensating or resuming was a
#: rare draw.
#: A choreography's step also has a ``message`` cell: a fault on the event that sets the
#: step off or on the one it publishes, and after the commit a ``death`` cell: the step's
#: participant killed between its ack and its publish, a group of its own as the
#: orchestrator's crash is (search/messages.py, ``BY_GROUP``). Both are drawn only where
#: the run has a broker whose traffic the fault proxy reads.
GROUPS = ("http", "late", "network", "crash", "process", "client", "review", "message",
          "death")
#: The groups of the message family, each with its kinds by phase.
MESSAGE_GROUPS = ("message", "death")
PHASES = ("before_commit", "after_commit")
#: HTTP kinds the ``http`` group leaves out: a delay is the ``late`` group's, and a
#: hold parks a request until the workload ends (a trigger's hold is the nemesis's).
NOT_PLAIN_HTTP = frozenset({"delay", "hold"})
#: The orchestrator's process kinds the ``crash`` group draws (a pause is ``process``'s).
CRASH_KINDS = ("kill", "restart")
#: Draws the planner rejects in a row, per cell of the current tier, before it gives the
#: rest of the tier up (cells these capabilities cannot build after all) rather than
#: stall its slice: many times what hitting the tier's last cell takes. A draw hits a
#: given pack of n about once in 3n, and Hypothesis's taste for 0 leaves a member out
#: more often than the draw's width says: at 20 per cell, a tier of packs of seven gave
#: up a pack it could build once in 30 or so.
GIVE_UP_AFTER = 60
#: Cells per example, by tier: each on an order of its own, of different steps and groups
#: (a crash, a lost answer, a 5xx, a pause, say). At four the plan was some 22 packs, past a dev budget of 20 examples,
#: and a defect only one cell reaches (the opposite review decision) went unfound on a
#: seed whose plan put that cell last; at five it is 18 to 20. Late commits pack with
#: each other (``WAIT``), so a pack of five no longer waits past the call timeout as a
#: rule, which is what made seven slow. Seven to a pack (14 packs, the whole plan within a dev budget) was measured and
#: undone: every pack then held a member that waits past the call timeout, so each
#: example took longer, and a crash of the orchestrator drawn by one member masked the
#: others' faults (a late capture resumed and committed cleanly after the restart):
#: over 5 seeds the opposite review decision took 112 s to find (45 s at four), and a
#: late commit was missed on 1 seed in 5 (found on 5 of 5 at four, in 107 s median).
#: The intent tier's nine cells go five to a pack too: at three they took three packs,
#: and with late commits kept apart from crashes (``APART``) a plan was 21 packs on
#: some seeds, and the one left unrun held a late capture (a timeout taken for a refusal
#: went unfound, 1 seed in 5); at five every plan is 17 to 20 packs.
#: Step packs of seven again, now that late commits share packs and stay apart from
#: crashes: 13 or 14 packs, and a defect one cell reaches comes about a third sooner
#: (over the 21 planted bugs and 5 seeds: the opposite review decision 64 s to 29 s
#: median, trust-answers 60 s to 28 s, the late capture 103 s to 82 s), while a
#: defect any early example shows costs a few seconds more (bigger examples).
PACK: dict[str, int] = {"intent": 5, "step": 7}


@dataclass(frozen=True)
class Cell:
    """One planned example: an intent (tier ``intent``) or a step x group x phase."""

    tier: str
    intent: str | None = None
    step: str | None = None
    group: str | None = None
    phase: str | None = None
    #: The fault kind: a ``review`` cell's decision input (each a situation of its own:
    #: the same decision again, the opposite one, one after the timeout, one racing
    #: it), which the cell must send; in the other groups the kind the cell prefers
    #: (``spread_kinds``), drawn freely when this order cannot take it here.
    kind: str | None = None
    #: A ``death`` cell's event: the one reporting the step that the death loses, each
    #: a cell of its own (``death_events``).
    event: str | None = None

    def __str__(self) -> str:
        if self.tier == "intent":
            at = f" at {self.step} x {self.phase} x {self.kind}" if self.step else ""
            return f"intent {self.intent}" + (f" x {self.group}" if self.group else "") + at
        return (f"{self.step} x {self.group} x {self.phase}" + (f" x {self.kind}" if self.kind else "")
                + (f" x {self.event}" if self.event else ""))  # fmt: skip


def kinds_of(family: str, kinds: Sequence[str] | None) -> list[str]:
    """The catalog's kinds of one family (among ``kinds`` when given), sorted."""
    return list(_kinds_of(family, None if kinds is None else tuple(kinds), catalog_size()))


@functools.lru_cache(maxsize=1024)
def _kinds_of(family: str, kinds: tuple[str, ...] | None, size: int) -> tuple[str, ...]:
    """``kinds_of``, worked out once per catalog (``size``): each draw of a workload
    reads it some seventy times, a sixth of what a draw cost."""
    registry = fault_kinds()
    return tuple(k for k in sorted(kinds or registry)
                 if k in registry and registry[k].family == family)  # fmt: skip


def plain_http(kinds: Sequence[str] | None) -> list[str]:
    """The ``http`` group's kinds (among ``kinds`` when given), sorted."""
    return [k for k in kinds_of("http", kinds) if k not in NOT_PLAIN_HTTP]


def groups_at(
    step: str, phase: str, crash_ok: bool, kinds: Sequence[str] | None = None
) -> list[str]:
    """The groups a fault on ``step`` in ``phase`` can be drawn from. The customer read
    carries no order id, so only a rule on the customer's path aims at it; a late
    commit is a before-commit delay of a step that makes an effect."""
    frozen = None if kinds is None else tuple(kinds)
    return list(_groups_at(step, phase, crash_ok, frozen, catalog_size()))


@functools.lru_cache(maxsize=1024)
def _groups_at(step: str, phase: str, crash_ok: bool, kinds: tuple[str, ...] | None,
               size: int) -> tuple[str, ...]:  # fmt: skip
    return tuple(_groups_now(step, phase, crash_ok, kinds))


def _groups_now(step: str, phase: str, crash_ok: bool, kinds: Sequence[str] | None) -> list[str]:
    out = ["http"] if plain_http(kinds) else []
    # The orchestrator's own inputs (search/inputs.py): a decision at the customer step
    # (the one before review), to an order that awaits review or to one that never asks;
    # a repeated or changed POST /orders at the others.
    client = kinds_of("client", kinds)
    out += [g for g in MESSAGE_GROUPS
            if set(kinds_of("message", kinds)) & set(messages.BY_GROUP[g][phase])]
    if step == "customer":
        return (out + (["client"] if set(client) & inputs.unasked_kinds(phase) else [])
                + (["review"] if set(client) & inputs.review_kinds(phase) else []))  # fmt: skip
    client = ["client"] if set(client) & set(inputs.IN_FLIGHT) else []
    if phase == "before_commit" and "delay" in kinds_of("http", kinds):
        out.append("late")
    if kinds_of("network", kinds):
        out.append("network")
    if crash_ok:
        out.append("crash")
    if kinds_of("process", kinds):
        out.append("process")
    return out + client


def fits(intent: str, step: str, group: str, kind: str | None = None,
         hybrid: bool = False, event: str | None = None) -> bool:  # fmt: skip
    """Whether an order of ``intent`` can take a fault of ``group`` (of ``kind``, when
    given) at ``step``: at the customer step a ``review`` input needs an order that
    awaits review, a ``client`` one an order that never asks (the contract's intents say
    which need ``review``), and an order meant to time out takes only the decisions that
    leave its timeout to fire. A late commit needs an effect to land late: none at the
    step whose answer refuses the order (a capture held past the timeout and then
    declined was one in five of a late capture's draws, and showed nothing)."""
    if group == "late" and step == REFUSED_AT.get(intent):
        return False
    if group in MESSAGE_GROUPS:  # (a ``hybrid``'s events: the orchestrator's end events)
        return messages.has_step(intent, step, hybrid, event)
    if step != "customer" or group not in ("client", "review"):
        return True
    if group == "review" and kind is not None and REVIEWS.get(intent) == "timeout":
        return kind in inputs.LEAVE_TIMEOUT
    return inputs.asks_review(intent) == (group == "review")


def _review_kinds(group: str, phase: str, kinds: Sequence[str] | None) -> list[str | None]:
    """One cell per decision input of a ``review`` cell, none for other groups: drawn
    within one cell, the opposite decision after the first came up in one review cell
    of three, and a defect that acts on it went unfound on 2 seeds of 2 (held out)."""
    if group != "review":
        return [None]
    return [k for k in sorted(inputs.review_kinds(phase)) if k in kinds_of("client", kinds)]


def death_events(group: str, step: str, intents: Sequence[str],
                 hybrid: bool = False) -> list[str | None]:  # fmt: skip
    """One ``death`` cell per event that reports the step on the paths of ``intents``
    (``None`` for the other groups: one cell). A participant publishes each from code of
    its own, the failure and compensation branches beside the forward one, as a review
    decision is a situation of its own (``_review_kinds``). Drawn by intent within one
    cell per step, a death hit a forward event about 2 times in 3 (most intents that
    reach a capture capture), and a lost compensation was found at examples 2 to 14 over
    5 seeds."""
    if group != "death":
        return [None]
    return list(messages.reported(step, intents, hybrid))


def plan_cells(
    seed: int,
    reaches: dict[str, tuple[str, ...]],
    intents: Sequence[str] = INTENTS,
    crash_ok: bool = True,
    kinds: Sequence[str] | None = None,
    hybrid: bool = False,
) -> tuple[Cell, ...]:
    """Every cell, intent tier first; each tier shuffled by ``seed`` alone.

    ``reaches`` maps each intent the orchestrator can carry out to the steps it takes
    (strategies.REACHES, filtered by capability); ``hybrid``: the broker carries only
    the orchestrator's end events (``fits``)."""
    rng = random.Random(f"fracas-plan:{seed}")
    first = [Cell("intent", intent=i) for i in intents if reaches.get(i)]
    steps = list(dict.fromkeys(s for i in intents for s in reaches.get(i, ())))
    takers = {s: [i for i in intents if s in reaches.get(i, ())] for s in steps}
    second = [
        Cell("step", step=s, group=g, phase=p, kind=k, event=e)
        for s in steps
        for p in PHASES
        for g in groups_at(s, p, crash_ok, kinds)
        for k in _review_kinds(g, p, kinds)
        for e in death_events(g, s, takers[s], hybrid)
        if any(fits(i, s, g, k, hybrid, e) for i in takers[s])
    ]
    rng.shuffle(first)
    rng.shuffle(second)
    second = together(spread_kinds(second, rng, crash_ok, kinds))
    first = _spread_groups(first, reaches, rng, crash_ok, kinds, hybrid)
    for cell in undo_first(reaches, intents, kinds, hybrid):  # (after: the rest as before)
        first.insert(rng.randint(0, len(first)), cell)
    return (*first, *second)


def undo_first(reaches: dict[str, tuple[str, ...]], intents: Sequence[str],
               kinds: Sequence[str] | None, hybrid: bool = False) -> list[Cell]:  # fmt: skip
    """The intent tier's cells of a choreography's other order of a create and its undo
    (``messages.overtaken``): an order of an intent that undoes a step on another branch,
    with the event that sets the step off delivered late, after the undo came. The
    intent tier covers each outcome, and in a choreography an outcome with an undo on
    another branch is reached in two orders, each to cover. Left to the step tier it
    was a late delivery in one message cell of some 100, on an out-of-stock order one
    draw in five at the capture, and never at a declined order's reservation (the step
    tier aims by ``strategies.REACHES``, where a declined order reserves nothing)."""
    if "message_late" not in kinds_of("message", kinds):
        return []
    return [Cell("intent", intent=i, step=s, group="message", phase="before_commit",
                 kind="message_late")
            for i, s in messages.overtaken(intents, hybrid) if i in reaches]


def together(cells: Sequence[Cell]) -> list[Cell]:
    """The cells that wait (``WAIT``) moved next to each other, so that they share
    packs, where one of them stood: the one of the first step by name, a place as random
    as any one cell's in the shuffled plan (the first of them would be early on every
    seed, the last late)."""
    waiting = [c for c in cells if c.group in WAIT]
    if not waiting:
        return list(cells)
    anchor = min(waiting, key=lambda c: (str(c.step), str(c.phase)))
    out: list[Cell] = []
    for cell in cells:
        if cell is anchor:
            out += waiting
        elif cell.group not in WAIT:
            out.append(cell)
    return out


def kinds_at(cell: Cell, crash_ok: bool, kinds: Sequence[str] | None) -> list[str]:
    """The kinds a step cell's fault may be, by its group (the strategies draw within
    these: search/strategies.py)."""
    group, phase, step = cell.group, str(cell.phase), str(cell.step)
    if group == "http":
        return plain_http(kinds)
    if group in ("network", "process"):
        return kinds_of(group, kinds)
    if group == "crash":
        return [k for k in kinds_of("process", kinds) if crash_ok and k in CRASH_KINDS]
    if group == "client":
        names = inputs.group_kinds(step, phase)
        return [k for k in kinds_of("client", kinds) if k in names]
    if group in MESSAGE_GROUPS:
        return [k for k in kinds_of("message", kinds) if k in messages.BY_GROUP[group][phase]]
    return []  # ``late`` is one kind; a ``review`` cell has its own already


def spread_kinds(
    cells: Sequence[Cell], rng: random.Random, crash_ok: bool, kinds: Sequence[str] | None
) -> list[Cell]:
    """Give each step cell of a group with several kinds the kind its group and phase
    used least so far (ties in an order shuffled by the seed), so the plan's first cells
    of a group bring each kind before any twice. Drawn within the cell, the kind was
    chance: a 5xx after the commit (one HTTP kind of four, in one phase of two) came up
    at example 12 of 20, a garbled answer on one seed of two. A group with fewer cells
    than kinds gets a cell per kind (``_every_kind``): a hybrid's broker has one message
    cell per phase, and four of the six message kinds it can take were never drawn."""
    cells = _every_kind(cells, crash_ok, kinds)
    order = {g: rng.sample(k, len(k)) for g in GROUPS
             for k in [sorted({x for c in cells if c.group == g for x in kinds_at(c, crash_ok, kinds)})]}  # fmt: skip
    used: dict[tuple[str, str, str], int] = {}
    out: list[Cell] = []
    for cell in cells:
        here = kinds_at(cell, crash_ok, kinds) if cell.kind is None else []
        if len(here) < 2:
            out.append(cell)
            continue
        g, ph = str(cell.group), str(cell.phase)
        kind = min((k for k in order[g] if k in here), key=lambda k: used.get((g, ph, k), 0))
        used[(g, ph, kind)] = used.get((g, ph, kind), 0) + 1
        out.append(replace(cell, kind=kind))
    return out


def _every_kind(cells: Sequence[Cell], crash_ok: bool, kinds: Sequence[str] | None) -> list[Cell]:
    """The step cells; a group with fewer cells than kinds has each of its cells named
    for a kind, and a copy of one of them (in turn) per kind left, placed after it (the
    plan is shuffled already: as random a place as any). (Spreading the network's nine
    kinds over its twelve cells by group rather than by phase, so that no plan leaves
    three out, made packs harder to draw: a dev budget ran 17 examples of 20 on 3 seeds
    of 12, the last pack of its tier not drawn in Hypothesis's call budget.)"""
    out = list(cells)
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        if cell.tier == "step" and cell.kind is None:
            groups.setdefault(str(cell.group), []).append(cell)
    for mine in groups.values():
        offered = {k: [c for c in mine if k in kinds_at(c, crash_ok, kinds)]
                   for c in mine for k in kinds_at(c, crash_ok, kinds)}  # fmt: skip
        if len(offered) <= len(mine):
            continue
        named: dict[int, list[Cell]] = {}  # what each cell of the group becomes
        for i, kind in enumerate(sorted(offered)):
            twin = offered[kind][i % len(offered[kind])]
            named.setdefault(id(twin), []).append(
                replace(twin, kind=kind))
        out = [n for c in out for n in (named.get(id(c), [c]) if c in mine else [c])]
    return out


def _spread_groups(
    cells: list[Cell],
    reaches: dict[str, tuple[str, ...]],
    rng: random.Random,
    crash_ok: bool,
    kinds: Sequence[str] | None,
    hybrid: bool = False,
) -> list[Cell]:
    """Each intent cell's fault from the fault groups in turn (their order shuffled by
    the seed), the next one its steps allow. Drawn freely, Hypothesis's taste for first
    elements aimed 4 intent examples in 9 at the first step and the first kind (a CRM
    read's answer dropped), so the tier that runs first barely crashed or delayed
    anything."""
    # A death takes its turn after the message group's: it was one of the message
    # family's kinds (shuffling the longer tuple would draw every plan's turns anew)
    groups = [g for g in GROUPS if g != "death"]
    rng.shuffle(groups)
    groups.insert(groups.index("message") + 1, "death")
    out: list[Cell] = []
    # The groups not used yet in this round come first, so a group an intent cannot
    # take is given to a later one instead of being skipped for the round.
    pending: list[str] = []
    allows = {
        str(c.intent): {g for s in reaches.get(str(c.intent), ()) for p in PHASES
                        for g in groups_at(s, p, crash_ok, kinds) if fits(str(c.intent), s, g, None, hybrid)}
        for c in cells
    }  # fmt: skip
    # A group few intents can take (a review decision: the review intents) goes first to
    # one that can, or a round may hand those intents the common groups and skip it.
    takers = {g: sum(g in a for a in allows.values()) for g in groups}
    for cell in cells:
        allowed = allows[str(cell.intent)]
        if not any(g in allowed for g in pending):
            pending += groups
        mine = [g for g in pending if g in allowed]
        group = min(mine, key=lambda g: takers[g]) if mine else None
        if group is None:
            out.append(cell)
            continue
        pending.remove(group)
        phase = "before_commit" if group == "late" else None
        out.append(Cell("intent", intent=cell.intent, group=group, phase=phase))
    return out


#: The cells one example carries, all of one tier.
Pack = tuple[Cell, ...]
#: Step cells whose fault always waits past the call timeout (a late commit): they share
#: packs, so one example pays the wait for several. Spread one to a pack, six of the
#: plan's 19 or so step packs each waited 6 to 10 s (an example without one took 4 s).
WAIT = ("late",)
#: Groups whose cells never share a pack. The orchestrator's crash restarts every
#: order's calls, not only its member's: a late commit another member waits on then
#: resumes as a retry under the same key, which finds the commit and goes on cleanly, so
#: a capture timeout taken for a refusal went unseen in the pack that held both.
APART = frozenset({("late", "crash"), ("crash", "late")})


def _joins(cell: Cell, pack: Sequence[Cell], waits: bool, to_wait: int) -> bool:
    """Whether ``cell`` may join ``pack`` (of its tier, with room): no two cells of one
    step in a pack, and in the step tier cells that wait only with each other until the
    last of them is placed; and no two cells whose groups are ``APART``. (The orchestrator's crashes packed only with each other were
    tried: the first crash of a plan then came four times later, and the defects any
    crash shows, a resume that runs once, say, are found by the first one.)"""
    if any(m.step is not None and m.step == cell.step for m in pack):
        return False
    if any((cell.group, m.group) in APART for m in pack):
        return False
    return cell.tier != "step" or waits == _waits(pack) or (not waits and to_wait == 0)


def _waits(pack: Sequence[Cell]) -> bool:
    return any(m.group in WAIT for m in pack)


def pack_cells(cells: Sequence[Cell], sizes: dict[str, int] | None = None) -> tuple[Pack, ...]:
    """The plan's cells in packs, in plan order: each cell joins the first open pack of
    its tier with room, none of the same step and, if any allows, none of the same
    group (two crashes in one example are drawn as a second fault on one order, not as
    two members). Cells of the customer step come first in their pack: the customer
    read carries no order id, and is aimed at by the customer's path, which the first
    order submitted reads first."""
    size = {**PACK, **(sizes or {})}
    packs: list[list[Cell]] = []
    # Step cells that wait, not placed yet: until the last is, their packs keep room.
    to_wait = sum(1 for c in cells if c.tier == "step" and c.group in WAIT)
    for cell in cells:
        waits = cell.tier == "step" and cell.group in WAIT
        to_wait -= waits
        room = [p for p in packs if p[0].tier == cell.tier and len(p) < size.get(cell.tier, 1)
                and _joins(cell, p, waits, to_wait)]  # fmt: skip
        apart = [p for p in room if all(m.group != cell.group for m in p)]
        if apart or room:
            (apart or room)[0].append(cell)
        else:
            packs.append([cell])
    return tuple(tuple(sorted(p, key=lambda c: c.step != "customer")) for p in packs)


def share_of(packs: Sequence[Pack], index: int, count: int) -> tuple[Pack, ...]:
    """Slice ``index`` of ``count``'s packs: every ``count``-th, so any budget split
    evenly covers the plan's first packs, whichever slices run."""
    return tuple(packs[index::count])


def tier_spans(packs: Sequence[Pack]) -> list[tuple[int, int]]:
    """``(start, end)`` of each tier's run of ``packs`` (which hold the tiers in order):
    the pack of an example is drawn as a tier, then an index within it."""
    spans: list[tuple[int, int]] = []
    for i, pack in enumerate(packs):
        if spans and packs[spans[-1][0]][0].tier == pack[0].tier:
            spans[-1] = (spans[-1][0], i + 1)
        else:
            spans.append((i, i + 1))
    return spans


@dataclass
class Planner:
    """One slice's side of the plan, for the generation phase of its search."""

    packs: tuple[Pack, ...]
    index: int = 0
    count: int = 1
    #: How many examples the example database handed back (replays of earlier
    #: failures); ``replays`` is read on each example, so a callable.
    replays: Any = field(default=lambda: 0)
    active: bool = True
    #: The tier (an index into ``spans``) generation is covering; ``len(spans)``: the
    #: plan ran, free combinations now.
    tier: int = 0
    calls: int = 0
    attempts: int = 0
    shapes: set[str] = field(default_factory=set)
    #: The packs (by index) run by generation, in order.
    ran: list[int] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.spans = tier_spans(self.packs)

    def begin(self) -> None:
        """Call at the start of each example, before its draws."""
        self.calls += 1

    def stop(self) -> None:
        """A failure was found: from now on Hypothesis shrinks and replays, and each
        of those must see the draws it asks for."""
        self.active = False

    @property
    def planned_done(self) -> bool:
        return self.tier >= len(self.spans)

    def _replaying(self) -> bool:
        return self.calls <= int(self.replays())

    def _in_tier(self, k: int) -> bool:
        start, end = self.spans[self.tier]
        return start <= k < end and k not in self.ran

    def _advance(self) -> None:
        """Past every tier whose cells have all run."""
        while not self.planned_done and not any(
            self._in_tier(k) for k in range(*self.spans[self.tier])
        ):
            self.tier += 1

    def admit(self, k: int, shape: Shape, whole: bool = True) -> None:
        """Reject the example drawn for pack ``k`` (``len(packs)``: a free combination)
        unless it is a pack of the slice's current tier that has not run, with every
        member (``whole``), or, once the plan ran, a free shape the slice has not run
        and whose hash is the slice's; a replay of a saved failure may be any pack not
        run yet. Called after every draw of the example: Hypothesis requires the same
        choices to make the same draws, whatever ran before."""
        if not self.active:
            return
        planned = k < len(self.packs)
        key = shape_key(shape)
        if key in self.shapes:
            reject()
        if self._replaying():
            if k in self.ran or (not planned and not self.planned_done):
                reject()
        elif not whole:
            reject()  # a member left out: what shrinking may try, not generation
        elif not self.planned_done and not self._in_tier(k):
            self.attempts += 1
            start, end = self.spans[self.tier]
            if self.attempts > GIVE_UP_AFTER * (end - start):
                self.tier += 1  # the rest of this tier cannot be built here: move on
                self.attempts = 0
                self._advance()
            reject()
        elif self.planned_done and (planned or int(key, 16) % self.count != self.index):
            reject()  # every planned cell ran: combinations now, this slice's share
        self.shapes.add(key)
        self.ran.append(k)
        self.attempts = 0
        self._advance()
