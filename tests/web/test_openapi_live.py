"""schemathesis against the live server: gunicorn on a free loopback port, a seeded
API key and data, every phase including the stateful one (sequences that follow the
document's links, e.g. create a bulletin, then read, send, pause it), bounded in time.
It must find nothing: no 500, no answer the document does not describe, nothing the
document forbids accepted, and a 405 that says what is allowed (issue 12, item 18).

Not checked: that every request the document allows is accepted. Some rules cannot be
said in JSON Schema (an email address that must be deliverable, a region the key may
use, a body that must match the URL), so the server refuses some valid-looking data.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests import factories

BUDGET_SECONDS = 60
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
    )
)


def test_schemathesis_finds_nothing_against_the_live_server(app, client, live_server, tmp_path):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(membership_number=f"S{n}") for n in range(3)])
    headers = factories.api_key()
    created = client.post(
        "/api/v1/bulletins", headers=headers, json=factories.bulletin_body(partnership.id)
    )
    assert created.status_code == 201
    command = [
        shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis",
        "run",
        f"{live_server}/api/v1/openapi.json",
        "--header",
        f"Authorization: {headers['Authorization']}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        CHECKS,
        "--max-time",
        str(BUDGET_SECONDS),
        "--workers",
        "1",
        "--seed",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=BUDGET_SECONDS + 90
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-8000:]
    assert "✅ Stateful" in report, report[-3000:]
    assert "unique failures" not in report
