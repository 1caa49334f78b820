"""Client faults: the orchestrator's own inputs arriving twice, late, crossed or changed.

Every other family breaks what the orchestrator *calls*. Real inputs are at-least-once
too: a reviewer double-clicks, a webhook is delivered again, a decision arrives after
the review timed out, a client retries ``POST /orders`` after a lost answer while the
first request is still being handled. Here the harness is that client. A kind sends
its inputs through the run's ``OrderClient`` (the runner's, which records each input
and its answer in the history as an operation), never to the orchestrator directly:
the checkers then judge what the input *did* to the ledgers.

A kind waits for the order state its input needs (awaiting review, a decision taken,
the order finished) on its own thread, so the nemesis, which parks trigger requests
until ``apply`` returns, is never blocked by it. ``heal`` takes nothing out (an input
sent cannot be unsent); the run waits for every input to be sent and its effects to
settle before the checkers read the ledgers (``OrderClient.join``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

from fracas.harness.faults.base import Fault, Param, fault_kinds
from fracas.harness.faults.context import FaultContext, FaultError

#: What a client fault acts on: the orchestrator's own API.
TARGET = "orchestrator"
DECISIONS = ("approve", "reject")
#: Statuses an order rests in when no input of ours can move it on.
TERMINAL = frozenset({"completed", "failed", "needs_attention"})
#: Every status: the order is known to the orchestrator.
KNOWN = frozenset({"pending", "running", "awaiting_review"}) | TERMINAL

ORDER_ID = Param(
    "order_id", "str", "the order the input is about", example="ord-0001"
)
DECISION = Param(
    "decision", "str", "the review decision sent first", default="approve", choices=DECISIONS
)


class Answer(NamedTuple):
    """What the orchestrator answered one input; ``status_code`` None: no answer."""

    status_code: int | None
    body: Mapping[str, Any]


@runtime_checkable
class OrderClient(Protocol):
    """The run's client, as a client fault needs it (``fracas.harness.run.client``)."""

    def spawn(self, fault: Fault, work: Callable[[], None]) -> None:
        """Run ``work`` on a thread of its own; the run waits for it before checking."""

    def body(self, order_id: str) -> dict[str, Any] | None:
        """The body the workload submitted for ``order_id`` (None: not an order of the run)."""

    def wait_status(self, order_id: str, wanted: Collection[str]) -> str | None:
        """The order's status once it is one of ``wanted``; None when it came to rest
        elsewhere (terminal), or the wait ran out."""

    def current(self, order_id: str) -> str | None:
        """The order's status now (None: unknown to the orchestrator, or no answer)."""

    def submit(self, fault: Fault, order: Mapping[str, Any], expect: Collection[int],
               note: str) -> Answer:  # fmt: skip
        """``POST /orders``, recorded as an operation with the answers the contract allows."""

    def review(self, fault: Fault, order_id: str, decision: str, expect: Collection[int],
               note: str, in_review: Collection[int] = ()) -> Answer:  # fmt: skip
        """``POST /orders/{id}/review``, recorded likewise. ``in_review``: the answers
        also allowed should the order turn out to await review when the decision lands
        (sent before a high-risk customer's order reached review; the checker knows the
        customer, the sender does not)."""

    def advance_clock(self, fault: Fault) -> bool:
        """Jump the orchestrator's clock past any review timeout; False: it has no clock."""

    def together(self, calls: Sequence[Callable[[], object]]) -> list[object]:
        """Send ``calls`` at once (released together), for inputs that race."""


def client_of(fault: Fault, ctx: FaultContext) -> OrderClient:
    client = getattr(ctx, "client", None)
    if not isinstance(client, OrderClient):
        raise FaultError(
            f"{fault.kind} fault: client faults are sent by a run's client; apply it "
            "through a schedule (fracas.run) or the stateful search, not on its own"
        )
    return client


def races(faults: Iterable[Mapping[str, Any]]) -> list[str]:
    """Which of ``faults`` (the catalog's JSON, as a schedule or replay file holds them)
    are races by nature, each as ``"review_race on ord-0001"``: known from the kind alone,
    so a replay can say so before it runs. Kinds the catalog lacks are no race."""
    kinds = fault_kinds()
    out = []
    for fault in faults:
        cls = kinds.get(str(fault.get("kind")))
        params = fault.get("params") or {}
        if cls is not None and issubclass(cls, ClientFault) and cls.is_race(params):
            out.append(f"{cls.kind} on {params.get('order_id', '?')}")
    return out


def opposite(decision: str) -> str:
    return "reject" if decision == "approve" else "approve"


class ClientFault(Fault):
    """A family base: ``send`` is the input's whole story, run on its own thread."""

    family = "client"
    #: True: the input races something the harness cannot order (the review timer), so
    #: a replay may take the other branch; reports and witnesses say so.
    race: ClassVar[bool] = False

    @classmethod
    def is_race(cls, params: Mapping[str, Any]) -> bool:
        """Whether an input with these params races something: for most kinds the kind
        alone says; a kind whose timing is a parameter overrides this."""
        return cls.race

    @classmethod
    def check_together(cls, params: Mapping[str, Any]) -> None:
        return None

    @property
    def order_id(self) -> str:
        return str(self.params["order_id"])

    def apply(self, ctx: FaultContext) -> None:
        client = client_of(self, ctx)
        client.spawn(self, lambda: self.send(client))

    def heal(self, ctx: FaultContext) -> None:
        """An input sent cannot be taken back; the run waits for its effects."""
        return None

    @abstractmethod
    def send(self, client: OrderClient) -> None:
        """Wait for the state the input needs, send it, record nothing else: the
        client records every input and its answer."""


class ReviewFault(ClientFault):
    """Review inputs: the order must be awaiting review (or have left it) first."""

    #: The input makes the order's review decision itself (its first decision, or the
    #: timeout it lets fire): the run's own reviewer leaves that order to it meanwhile
    #: (``RunClient.deciding``). Answering it too, the reviewer approved an order that a
    #: ``review_late`` meant to let time out, and the input became a second decision.
    decides: ClassVar[bool] = True

    def first_decision(self, client: OrderClient, decision: str, copies: int = 1) -> bool:
        """Once the order awaits review, send ``decision`` (``copies`` at once). A second
        copy may be answered 200 or 409 (contract: the same decision twice has one
        effect). False when the order never asked for review."""
        if client.wait_status(self.order_id, {"awaiting_review"}) is None:
            return False

        def call() -> Answer:
            return client.review(
                self, self.order_id, decision, (200, 409), "while the order awaits review"
            )

        if copies > 1:
            client.together([call] * copies)
        else:
            call()
        return True

    def after_review(self, client: OrderClient) -> bool:
        """Wait until the order is no longer awaiting review: its decision took (or its
        timeout fired). False when it never did."""
        left = {"pending", "running", *TERMINAL}
        return client.wait_status(self.order_id, left) is not None
