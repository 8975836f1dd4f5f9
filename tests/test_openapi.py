"""The live importer against docs/openapi.yaml: schemathesis sends generated requests
(a bounded number per route) and checks that no answer is a 5xx and that every answer
matches the document (status codes, content type, JSON shape)."""

from __future__ import annotations

from pathlib import Path

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import CAMERA_USER

OPENAPI = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
EXAMPLES = 15  # per route
# What the document promises about answers. (Whether every schema-valid request is
# accepted is not among them: the document does not spell out every rule of the model,
# e.g. namespaced strings and time bounds, which give a clear 400.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_importer_answers_as_its_openapi_document_says(server):
    # A camera's first request gets its login checked; generated bodies may then be large.
    probe = {"type": "cached_entity", "cached_entity_id": "0" * 32}
    assert requests.post(server.url, json=probe, auth=CAMERA_USER, timeout=30).ok
    schema = schemathesis.openapi.from_path(OPENAPI)
    schema.config.update(base_url=f"http://127.0.0.1:{server.port}")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {
        "/import",
        "/import/data/{file_id}/{md5}",
        "/import/resend",
        "/health",
    }
    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(auth=CAMERA_USER, timeout=30, checks=CHECKS)

        check()
