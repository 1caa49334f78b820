"""What the hybrid's participants do with the orchestrator's outcome events.

The orchestrator decided the order's end and published it; sending the customer's
message is downstream work that needs no coordination, so a participant does it, at
least once per delivery and exactly once in effect (the idempotency key).
"""

from __future__ import annotations

from typing import Any

from roles import Context, Outcome, need

TEMPLATES = {"order.completed": "order_confirmed", "order.failed": "order_failed"}


async def notify(ctx: Context, event: str, body: dict[str, Any]) -> Outcome:
    """``order_confirmed`` or ``order_failed``, when the event says one is owed (not to
    an unknown customer); it publishes nothing after."""
    template = TEMPLATES.get(event)
    if template is None or not body.get("notify"):
        return Outcome()
    oid, order = body["order_id"], body["order"]
    got = await ctx.services.call("notify", "POST", "/messages", oid, key=ctx.key(oid, template),
                                  json={"order_id": oid, "customer_id": order["customer_id"],
                                        "template": template})
    if got.status != 201:
        raise ValueError(f"message answered {got.status}")
    # A garbled 201 (a malformed-answer fault before the commit) sent nothing: raising
    # asks again with the same key, which sends it or replays the one that was sent.
    need(got.body, "message_id", str)
    return Outcome()


HANDLERS = {"notify": notify}
