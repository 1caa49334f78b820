"""§5, row ``failed``: a failed order leaves nothing behind but (usually) one order_failed."""

from __future__ import annotations

from collections.abc import Iterator

from fracas.harness.checkers.picture import picture
from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View, fmt_money
from fracas.harness.checkers.violation import Violation


def failed_notices_allowed(view: View, order_id: str) -> tuple[int, int]:
    """How many order_failed messages (min, max) a failed order may carry.

    Unknown customer: nobody to notify, so none is required (one is tolerated, two is a
    duplicate). Blocked customer: configurable, see docs/checkers.md. Otherwise exactly one.
    """
    customer = view.customer_of(order_id)
    if customer is None:
        return 0, 1
    if customer.get("status") == "blocked":
        mode = view.config.blocked_customer_notice
        return {"required": (1, 1), "optional": (0, 1), "forbidden": (0, 0)}[mode]
    return 1, 1


@rule("failed-ledger")
def check(view: View) -> Iterator[Violation]:
    """An order reported failed has net charge 0, no held reservation, no live shipment, no
    order_confirmed, and exactly one order_failed when the customer exists."""
    for oid, order in view.orders.items():
        if view.status(oid) != "failed":
            continue
        pic = picture(view, oid)
        problems: list[str] = []
        expected: dict[str, object] = {}
        actual: dict[str, object] = {}
        if pic.net_charge_cents != 0:
            problems.append(
                f"net charge {fmt_money(pic.net_charge_cents, order.get('currency'))}, expected 0"
            )
            expected["net_charge_cents"], actual["net_charge_cents"] = 0, pic.net_charge_cents
        if pic.held:
            ids = ", ".join(str(r.get("reservation_id")) for r in pic.held)
            problems.append(f"reservation {ids} still held")
            expected["held_reservations"], actual["held_reservations"] = 0, len(pic.held)
        if pic.live_shipments:
            ids = ", ".join(str(s.get("shipment_id")) for s in pic.live_shipments)
            problems.append(f"shipment {ids} not cancelled")
            expected["live_shipments"], actual["live_shipments"] = 0, len(pic.live_shipments)
        if pic.confirmed:
            problems.append(f"{pic.confirmed} order_confirmed messages, expected none")
            expected["order_confirmed"], actual["order_confirmed"] = 0, pic.confirmed
        lo, hi = failed_notices_allowed(view, oid)
        if not lo <= pic.failed_msgs <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            problems.append(f"{pic.failed_msgs} order_failed messages, expected {want}")
            expected["order_failed"], actual["order_failed"] = want, pic.failed_msgs
        if problems:
            yield Violation(
                "failed-ledger",
                oid,
                f"order {oid} reported failed but " + "; ".join(problems),
                ledger_rows=view.ledger_rows(oid),
                expected=expected,
                actual=actual,
            )
