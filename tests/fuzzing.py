"""Schemathesis against one served OpenAPI document, with the findings collected.

Every interface fracas serves is fuzzed the same way (issue 21): the document is read
from the service itself, each operation gets generated requests, valid and invalid, and
each answer is checked for a 5xx, a status or content type the document does not list,
and a body that breaks its schema; invalid requests must also be refused. Findings are
collected instead of raised, so a test can say all of them at once and
``bench/reliability.py`` can count them over a longer run with the same code.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

#: An answer the documents promise may be a 5xx (the Toxiproxy API's 500 for a listen
#: address it cannot bind): ``(case, response) -> True`` lets it through.
Allowed = Callable[[schemathesis.Case, Any], bool]


@dataclass
class FuzzResult:
    requests: int = 0
    operations: int = 0
    #: "METHOD /path [mode]: what broke" for each distinct finding
    findings: list[str] = field(default_factory=list)
    #: how often each status was answered: a fuzz that only ever met 404 proved little
    statuses: Counter[int] = field(default_factory=Counter)

    #: finding -> the first request that showed it, for the report
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, finding: str, case: schemathesis.Case | None = None) -> None:
        if finding not in self.findings:
            self.findings.append(finding)
            if case is not None:
                shown = f"path={case.path_parameters} query={case.query} body={case.body!r}"
                self.examples[finding] = shown[:4000]


def _never(case: schemathesis.Case, response: Any) -> bool:
    return False


def fuzz(
    base_url: str,
    doc_path: str = "/openapi.json",
    *,
    examples: int = 15,
    seed: int | None = None,
    skip: Iterable[str] = (),
    allowed_5xx: Allowed = _never,
    after_each: Callable[[], None] | None = None,
    prepare: Callable[[schemathesis.Case], None] | None = None,
    modes: Iterable[GenerationMode] = MODES,
) -> FuzzResult:
    """Fuzz every operation of the document at ``base_url + doc_path`` but those whose
    label (``"PUT /_fracas/faults"``) is in ``skip``. ``seed=None`` is derandomized (the
    normal suite); a seed gives another draw each (the bench). ``after_each`` runs after
    every request: an admin call that changed the service is undone before the next.
    ``prepare`` may change a case before it is sent (aim a path id at a thing that exists,
    keep a listen address on loopback)."""
    schema = schemathesis.openapi.from_url(base_url + doc_path)
    # Every fracas service ignores query parameters it does not know, as most HTTP APIs
    # do and none of its documents forbids; schemathesis would count each one as an
    # invalid request the service failed to refuse.
    schema.config.generation.update(allow_extra_parameters=False)
    result = FuzzResult()
    skipped = set(skip)
    for operation in (r.ok() for r in schema.get_all_operations()):
        if operation.label in skipped:
            continue
        result.operations += 1
        for mode in modes:
            hooks = _Hooks(allowed_5xx, after_each, prepare)
            _fuzz_operation(operation, mode, base_url, examples, seed, hooks, result)
    return result


def _flat_query(case: schemathesis.Case) -> None:
    """An object or array where a query parameter wants a scalar is sent as its JSON text.
    Sent as generated, form style would explode it into other parameters (``{}`` into
    none at all), and the invalid value the case was made for would never be sent."""
    for name, value in list((case.query or {}).items()):
        if isinstance(value, dict | list):
            case.query[name] = json.dumps(value)


@dataclass
class _Hooks:
    allowed_5xx: Allowed
    after_each: Callable[[], None] | None
    prepare: Callable[[schemathesis.Case], None] | None


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    examples: int,
    seed: int | None,
    hooks: _Hooks,
    result: FuzzResult,
) -> None:
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        result.requests += 1
        where = f"{operation.label} [{mode.value}]"
        _flat_query(case)
        if hooks.prepare is not None:
            hooks.prepare(case)
        try:
            response = case.call(base_url=base_url, timeout=20)
        except requests.RequestException as exc:
            result.add(f"{where}: no answer ({type(exc).__name__})", case)
            return
        finally:
            if hooks.after_each is not None:
                hooks.after_each()
        result.statuses[response.status_code] += 1
        used = checks
        if response.status_code >= 500 and hooks.allowed_5xx(case, response):
            used = [c for c in checks if c is not not_a_server_error]
        try:
            case.validate_response(response, checks=used)
        except FailureGroup as exc:
            titles = [getattr(f, "title", str(f)) for f in exc.exceptions]
            result.add(f"{where}: {response.status_code} {'; '.join(sorted(set(titles)))}", case)

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    try:
        run()
    except Unsatisfiable:
        # Some operations have nothing that can be made invalid (a path id is any string).
        if mode is not GenerationMode.NEGATIVE:
            result.add(f"{operation.label} [{mode.value}]: no request could be generated")
