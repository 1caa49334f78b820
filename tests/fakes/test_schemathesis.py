"""Schemathesis against every fake's /openapi.json: generated requests, valid and
invalid, never get a 5xx or an answer the document does not describe (the fuzzing is
tests/fuzzing.py, shared with the other interfaces and bench/reliability.py)."""

from __future__ import annotations

import pytest

from fracas.fakes.contract import service
from fracas.harness.run.services import SERVICES
from tests.fakes.support import Fake
from tests.fuzzing import fuzz

EXAMPLES = 8


@pytest.mark.parametrize("name", SERVICES)
def test_schemathesis(fakes: dict[str, Fake], name: str) -> None:
    fake = fakes[name]
    fake.reset()
    result = fuzz(fake.url, examples=EXAMPLES)
    assert result.operations == len(service(name).routes)
    assert result.findings == [], result.examples
    assert 404 in result.statuses, result.statuses  # crm: random ids are unknown customers
