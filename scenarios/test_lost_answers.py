"""Answers that never arrive or arrive broken, after the effect was committed.

Each one-shot rule names the order it hits: unpinned, it would hit whichever order got
there first, and a replay could see the same failure land on another order."""

import pytest

STEPS = [("payment", "/payments"), ("inventory", "/reservations"), ("shipping", "/shipments"),
         ("notify", "/messages")]
SHAPES = ["invalid_json", "truncated", "empty", "html", "wrong_types", "missing_fields"]


def rule(kind, service, path, phase, order_id, **extra):
    params = {"path": path, "method": "POST", "phase": phase, "times": 1, "order_id": order_id,
              **extra}
    return {"fault": {"kind": kind, "target": service, "params": params}, "at": 0}


@pytest.mark.parametrize("kind", ["drop", "reset"])
@pytest.mark.parametrize("step", STEPS, ids=[s for s, _ in STEPS])
def test_lost_answer_after_commit(fracas, kind, step):
    plans = fracas.orders(3)
    result = fracas.run(plans, [rule(kind, *step, "after_commit", plans[1].order_id)])
    result.assert_consistent()
    assert result.fired(kind, step[0]) == 1
    assert set(result.statuses.values()) == {"completed"}


@pytest.mark.parametrize("phase", ["before_commit", "after_commit"])
@pytest.mark.parametrize("shape", SHAPES)
def test_malformed_answers(fracas, shape, phase):
    plans = fracas.orders(3)
    schedule = [rule("malformed", s, p, phase, plans[0].order_id, shape=shape) for s, p in STEPS]
    result = fracas.run(plans, schedule).assert_consistent()
    assert result.fired("malformed") >= 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_before_commit(fracas, status):
    plans = fracas.orders(3)
    schedule = [rule("status", s, p, "before_commit", plans[0].order_id, status=status,
                     retry_after=0.1) for s, p in STEPS]
    result = fracas.run(plans, schedule).assert_consistent()
    assert result.fired("status") == len(STEPS)
    assert set(result.statuses.values()) == {"completed"}
