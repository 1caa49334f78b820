"""§5, row ``completed``: the ledgers must show exactly one paid, held, shipped, confirmed order."""

from __future__ import annotations

from collections.abc import Iterator

from fracas.harness.checkers.picture import held_lines, picture
from fracas.harness.checkers.registry import rule
from fracas.harness.checkers.view import View, fmt_money, line_counts
from fracas.harness.checkers.violation import Violation


@rule("completed-ledger")
def check(view: View) -> Iterator[Violation]:
    """An order reported completed is charged exactly lines total + recomputed quote by one
    live capture, has one held reservation with its lines, one live shipment, one
    order_confirmed and no order_failed."""
    for oid, order in view.orders.items():
        if view.status(oid) != "completed":
            continue
        pic = picture(view, oid)
        cur = order.get("currency")
        problems: list[str] = []
        expected: dict[str, object] = {}
        actual: dict[str, object] = {}

        charge = view.expected_charge(oid)
        if charge is None:
            problems.append(
                "the charge cannot be recomputed (unknown customer, country rate or SKU weight)"
            )
        elif pic.net_charge_cents != charge:
            problems.append(
                f"net charge {fmt_money(pic.net_charge_cents, cur)}, expected {fmt_money(charge, cur)}"
            )
            expected["net_charge_cents"], actual["net_charge_cents"] = charge, pic.net_charge_cents
        if len(pic.live_captures) != 1:
            problems.append(f"{len(pic.live_captures)} captures not fully refunded, expected 1")
            expected["live_captures"], actual["live_captures"] = 1, len(pic.live_captures)
        elif pic.live_captures[0].get("currency") != cur:
            problems.append(f"captured in {pic.live_captures[0].get('currency')}, ordered in {cur}")
            expected["currency"], actual["currency"] = cur, pic.live_captures[0].get("currency")
        if len(pic.held) != 1:
            problems.append(f"{len(pic.held)} held reservations, expected 1")
            expected["held_reservations"], actual["held_reservations"] = 1, len(pic.held)
        else:
            want, got = line_counts(order.get("lines") or []), held_lines(pic.held[0])
            if want != got:
                problems.append(
                    f"held reservation lines {dict(got)} differ from the order's {dict(want)}"
                )
                expected["held_lines"], actual["held_lines"] = dict(want), dict(got)
        if len(pic.live_shipments) != 1:
            problems.append(f"{len(pic.live_shipments)} shipments not cancelled, expected 1")
            expected["live_shipments"], actual["live_shipments"] = 1, len(pic.live_shipments)
        elif len(pic.held) == 1 and pic.live_shipments[0].get("reservation_id") != pic.held[0].get(
            "reservation_id"
        ):
            problems.append(
                f"shipment {pic.live_shipments[0].get('shipment_id')} ships reservation "
                f"{pic.live_shipments[0].get('reservation_id')}, not the held {pic.held[0].get('reservation_id')}"
            )
            expected["shipped_reservation"] = pic.held[0].get("reservation_id")
            actual["shipped_reservation"] = pic.live_shipments[0].get("reservation_id")
        if pic.confirmed != 1:
            problems.append(f"{pic.confirmed} order_confirmed messages, expected 1")
            expected["order_confirmed"], actual["order_confirmed"] = 1, pic.confirmed
        if pic.failed_msgs:
            problems.append(f"{pic.failed_msgs} order_failed messages, expected none")
            expected["order_failed"], actual["order_failed"] = 0, pic.failed_msgs
        if problems:
            yield against_intent(view, oid) or Violation(
                "completed-ledger",
                oid,
                f"order {oid} reported completed but " + "; ".join(problems),
                ledger_rows=view.ledger_rows(oid),
                expected=expected,
                actual=actual,
            )


def against_intent(view: View, oid: str) -> Violation | None:
    """An order the world makes fail (an unknown customer, a declined card) that was
    reported completed: said from its intent, "should have failed: unknown customer", with
    a failed order's ledger as the expected side, not the completed-order sums (a charge
    that cannot be recomputed, "expected 1 capture") that take the wrong outcome as given."""
    intent = view.intent_of(oid)
    if intent is None or intent.outcome == "completed":
        return None
    pic = picture(view, oid)
    cur = (view.orders.get(oid) or {}).get("currency")
    found = {
        "net_charge_cents": (pic.net_charge_cents, f"net charge {fmt_money(pic.net_charge_cents, cur)}"),
        "held_reservations": (len(pic.held), f"{len(pic.held)} held reservation(s)"),
        "live_shipments": (len(pic.live_shipments), f"{len(pic.live_shipments)} live shipment(s)"),
        "order_confirmed": (pic.confirmed, f"{pic.confirmed} order_confirmed message(s)"),
    }
    left = {k: v for k, v in found.items() if v[0]}
    shows = "; its ledgers show " + ", ".join(t for _, t in left.values()) if left else ""
    return Violation(
        "completed-ledger",
        oid,
        f"order {oid} {intent.expectation}, but it was reported completed{shows}",
        ledger_rows=view.ledger_rows(oid),
        expected={"status": f"failed ({intent.fails_because})", **dict.fromkeys(left, 0)},
        actual={"status": "completed", **{k: v[0] for k, v in left.items()}},
    )
