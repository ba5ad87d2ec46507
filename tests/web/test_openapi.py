"""schemathesis drives the API from its own OpenAPI document, in-process through WSGI,
with a valid key and seeded data: no answer may be a 500 or differ from the document.

Each operation is one test; valid and invalid examples both run, a dozen of each."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from commsvc.web.api.spec import build_spec
from tests import factories

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
OPERATIONS = [(path, method) for path, item in build_spec()["paths"].items() for method in item]


@pytest.fixture
def api_schema(app):
    """The document as the app serves it, with a partnership, members and a bulletin."""
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(membership_number=f"S{n}") for n in range(3)])
    headers = factories.api_key()
    created = app.test_client().post(
        "/api/v1/bulletins", headers=headers, json=factories.bulletin_body(partnership.id)
    )
    assert created.status_code == 201
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), headers


def test_the_document_lists_every_api_route(app):
    routed = {
        (
            re.sub(r"<int:\w+_id>", "{id}", rule.rule.removeprefix("/api/v1")).replace(
                "<membership_number>", "{membership_number}"
            ),
            method.lower(),
        )
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    routed.discard(("/openapi.json", "get"))
    assert routed == set(OPERATIONS)


@pytest.mark.parametrize(
    ("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS]
)
def test_api_answers_as_its_openapi_document_says(api_schema, path, method):
    loaded, headers = api_schema
    operation = loaded[path][method]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
