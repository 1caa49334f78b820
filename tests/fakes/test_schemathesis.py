"""Schemathesis against every fake's /openapi.json: generated requests, valid and
invalid, never get a 5xx or an answer the document does not describe."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from fracas.harness.run.services import SERVICES
from tests.fakes.support import Fake

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 15


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("name", SERVICES)
def test_schemathesis(fakes: dict[str, Fake], name: str, mode: GenerationMode) -> None:
    fake = fakes[name]
    fake.reset()
    schema = schemathesis.openapi.from_url(f"{fake.url}/openapi.json")
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=fake.url, timeout=10)
            case.validate_response(response, checks=checks)

        try:
            run()
        except Unsatisfiable:
            # Some operations have nothing that can be made invalid (a path id is any string).
            assert mode is GenerationMode.NEGATIVE, operation.label
