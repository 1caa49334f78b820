"""Schemathesis against every fake's admin API, /_fracas/openapi.json (issue 21):
generated requests, valid and invalid, on every admin operation (the fault-rule ones
included) never get a 5xx or an answer the document does not describe. After every
call the fake is reset and given one known rule, so what a fuzzed call installed never
reaches the next one."""

from __future__ import annotations

import pytest
import schemathesis

from fracas.harness.run.services import SERVICES
from tests.fakes.support import Fake
from tests.fuzzing import fuzz

#: half the generated rule ids are pointed at this rule, so DELETE reaches a real one
RULE = {"id": "fuzz", "match": {"path": "/never/**"}, "action": {"kind": "drop"}}


def _prepare(case: schemathesis.Case) -> None:
    params = case.path_parameters or {}
    if len(params.get("rule_id", "")) % 2 == 0 and "rule_id" in params:
        params["rule_id"] = RULE["id"]
    query = case.query or {}
    if "wait" in query:
        # ?wait= long-polls for up to 300 s; the range check is what is fuzzed, not the wait.
        # Only a valid wait is shortened: an invalid one (over 300, negative) must still
        # reach the fake, which must refuse it.
        try:
            if 0.05 < float(query["wait"]) <= 300:
                query["wait"] = "0.05"
        except (TypeError, ValueError):
            pass


@pytest.mark.parametrize("name", SERVICES)
def test_every_admin_operation_answers_as_documented(fakes: dict[str, Fake], name: str) -> None:
    fake = fakes[name]

    def restore() -> None:
        fake.reset()
        fake.faults(RULE)

    restore()
    result = fuzz(
        fake.url, "/_fracas/openapi.json", examples=5, after_each=restore, prepare=_prepare
    )
    assert result.operations == 13
    assert result.findings == [], result.examples
    assert {200, 201, 404, 422} <= set(result.statuses), result.statuses


def test_a_journal_cursor_beyond_sqlite_integers_is_a_422(payment: Fake) -> None:
    # Found by the fuzzer: since=2**63 reached SQLite and came back as a 500.
    for name in ("since", "limit"):
        r = payment.http.get("/_fracas/journal", params={name: str(2**63)})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == name
    assert payment.http.get("/_fracas/journal", params={"since": str(2**63 - 1)}).json() == {
        "entries": [],
        "next": 2**63 - 1,
    }


def test_a_blank_journal_cursor_is_a_422(payment: Fake) -> None:
    # Found by the fuzzer: `?since=` was read as no cursor at all (blank values dropped).
    r = payment.http.get("/_fracas/journal?since=&limit=")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] in ("since", "limit")
