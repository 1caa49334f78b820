"""One order's ledger picture: the few numbers §5's table is written in.

Shared by the completed/failed/needs-attention rules and the reports, so "what the ledgers
say about this order" is computed one way only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fracas.harness.checkers.view import View, line_counts

JSON = dict[str, Any]


@dataclass(slots=True)
class Picture:
    captures: int
    live_captures: list[JSON]
    net_charge_cents: int
    held: list[JSON]
    live_shipments: list[JSON]
    confirmed: int
    failed_msgs: int

    def to_json(self) -> JSON:
        return {
            "captures": self.captures,
            "live_captures": len(self.live_captures),
            "net_charge_cents": self.net_charge_cents,
            "held_reservations": len(self.held),
            "live_shipments": len(self.live_shipments),
            "order_confirmed": self.confirmed,
            "order_failed": self.failed_msgs,
        }


def picture(view: View, order_id: str) -> Picture:
    payments = view.payments_by_order.get(order_id, ())
    live = []
    net = 0
    for p in payments:
        amount, refunded = int(p.get("amount_cents") or 0), int(p.get("refunded_cents") or 0)
        net += amount - refunded
        if refunded < amount:
            live.append(p)
    confirmed = failed = 0
    for m in view.messages_by_order.get(order_id, ()):
        t = m.get("template")
        if t == "order_confirmed":
            confirmed += 1
        elif t == "order_failed":
            failed += 1
    return Picture(
        captures=len(payments),
        live_captures=live,
        net_charge_cents=net,
        held=[r for r in view.reservations_by_order.get(order_id, ()) if r.get("status") == "held"],
        live_shipments=[
            s for s in view.shipments_by_order.get(order_id, ()) if s.get("status") != "cancelled"
        ],
        confirmed=confirmed,
        failed_msgs=failed,
    )


def held_lines(reservation: JSON) -> dict[str, int]:
    return line_counts(reservation.get("lines") or [])
