"""Answers that never arrive or arrive broken, after the effect was committed."""

import pytest

STEPS = [("payment", "/payments"), ("inventory", "/reservations"), ("shipping", "/shipments"),
         ("notify", "/messages")]
SHAPES = ["invalid_json", "truncated", "empty", "html", "wrong_types", "missing_fields"]


def rule(kind, service, path, phase, **extra):
    params = {"path": path, "method": "POST", "phase": phase, "times": 1, **extra}
    return {"fault": {"kind": kind, "target": service, "params": params}, "at": 0}


@pytest.mark.parametrize("kind", ["drop", "reset"])
@pytest.mark.parametrize("step", STEPS, ids=[s for s, _ in STEPS])
def test_lost_answer_after_commit(fracas, kind, step):
    result = fracas.run(fracas.orders(3), [rule(kind, *step, "after_commit")])
    result.assert_consistent()
    assert result.fired(kind, step[0]) == 1
    assert set(result.statuses.values()) == {"completed"}


@pytest.mark.parametrize("phase", ["before_commit", "after_commit"])
@pytest.mark.parametrize("shape", SHAPES)
def test_malformed_answers(fracas, shape, phase):
    schedule = [rule("malformed", s, p, phase, shape=shape) for s, p in STEPS]
    result = fracas.run(fracas.orders(3), schedule).assert_consistent()
    assert result.fired("malformed") >= 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_before_commit(fracas, status):
    schedule = [rule("status", s, p, "before_commit", status=status, retry_after=0.1)
                for s, p in STEPS]
    result = fracas.run(fracas.orders(3), schedule).assert_consistent()
    assert result.fired("status") == len(STEPS)
    assert set(result.statuses.values()) == {"completed"}
