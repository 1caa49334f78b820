"""No faults: every edge case of the saga ends where the contract says it ends."""

EXPECTED = {
    "ok": "completed",
    "blocked": "failed",
    "unknown_customer": "failed",
    "declined": "failed",
    "out_of_stock": "failed",
    "undeliverable": "failed",
    "review_approve": "completed",
    "review_reject": "failed",
}


def test_every_path_without_faults(fracas):
    plans = fracas.orders(16, intents=list(EXPECTED))
    result = fracas.run(plans).assert_consistent()
    for plan in plans:
        assert result.statuses[plan.order_id] == EXPECTED[plan.intent], plan.intent


def test_review_timeout_fails_the_order(fracas):
    fracas.require("advance_clock")
    plans = fracas.orders(2, intents=["review_timeout"])
    result = fracas.run(plans).assert_consistent()
    assert set(result.statuses.values()) == {"failed"}
