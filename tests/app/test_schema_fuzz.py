"""schemathesis against the served OpenAPI schema, positive and negative: no generated input gets a 5xx,
and every answer conforms to the documented responses (status code, content type, body schema).

Requests are sent as a corporate (the exporter), so generated writes are refused by the gateway or the
contracts rather than piling transactions on the chain. Bounded: a few examples per operation and mode.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


@pytest.fixture(scope="session")
def openapi(gateway):
    schema = schemathesis.openapi.from_url(gateway.url + "/openapi.json")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema


@pytest.fixture(scope="session")
def openapi_without_coverage(gateway):
    """The schema fuzzed without schemathesis's coverage phase (its boundary values of each parameter and body
    field, run for every operation whatever `max_examples`): for the `:prepare` forms, whose bodies are their write
    routes', run through the same endpoint and validation, whose coverage phase runs below."""
    schema = schemathesis.openapi.from_url(gateway.url + "/openapi.json")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    schema.config.phases.update(phases=["examples", "fuzzing"])
    return schema


schema = schemathesis.pytest.from_fixture("openapi")
schema_without_coverage = schemathesis.pytest.from_fixture("openapi_without_coverage")


@schema.exclude(path_regex=r":prepare$").parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(case, world):
    case.call_and_validate(headers=world.auth("exporter"), checks=CHECKS, timeout=30)


# Each write's `:prepare` form (signed requests) takes the write's own body, whose schema the test above fuzzes
# with 12 examples per mode and every boundary value: here 4 random examples per mode, for what is the form's own
# (its answer, and bodies the chain alone would have refused: `"issue_date": false` was read as 0 and prepared).
@schema_without_coverage.include(path_regex=r":prepare$").parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_preparation_gets_a_server_error_or_an_undocumented_answer(case, world):
    case.call_and_validate(headers=world.auth("exporter"), checks=CHECKS, timeout=30)


def test_openapi_documents_every_route_with_a_response_model(http):
    spec = http.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            ok = next(code for code in operation["responses"] if code.startswith("2"))
            content = operation["responses"][ok].get("content", {})
            assert content, f"{method.upper()} {path} has no documented response"
            off_chain = path in ("/v1/documents", "/v1/fx-quotes", "/v1/fx-quotes:prepare") or \
                path.startswith("/v1/api-keys")
            if method == "post" and not off_chain:
                params = {p["name"] for p in operation.get("parameters", [])}
                assert "Idempotency-Key" in params, f"{method.upper()} {path} takes no Idempotency-Key"


def test_docs_are_served(http):
    assert http.get("/docs").status_code == 200
