"""A body the API cannot read, or one naming a field it does not take, is a 400 that
changes nothing (issue 12, items 17 and 21); an empty filter is a 400, a 405 says what
is allowed, and the OpenAPI document refuses what the server refuses (item 18).
Checked through the test client and gunicorn."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Bulletin, Member, Partnership
from commsvc.web.api.spec import build_spec
from tests import factories

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def draft(app, client):
    """(bulletin id, API headers): a draft bulletin for three members."""
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row() for _ in range(3)])
    headers = factories.api_key()
    created = client.post(
        "/api/v1/bulletins", json=factories.bulletin_body(partnership.id), headers=headers
    )
    assert created.status_code == 201
    return created.get_json()["id"], headers


def status_of(via, bulletin_id, headers) -> str:
    answer = via.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers)
    assert answer.status == 200
    return answer.json()["status"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"scheduled_for": "2027-01-05T09:00:00Z"', JSON),
        (b"scheduled_for=2027-01-05T09%3A00%3A00Z", FORM),
        (b'{"scheduled_for": "2027-01-05T09:00:00Z"}', {"Content-Type": "text/plain"}),
        (b"\x00", JSON),
        (b"\x00", {}),
        (b"[]", JSON),
        (b'"2027-01-05T09:00:00Z"', JSON),
        (b"\xff\xfe{", JSON),
    ],
    ids=["missing-brace", "form", "text-plain", "nul-json", "nul", "array", "string", "bytes"],
)
def test_a_send_whose_body_cannot_be_read_is_a_400_and_sends_nothing(
    via, draft, body, content_type
):
    bulletin_id, headers = draft
    answer = via.post(
        f"/api/v1/bulletins/{bulletin_id}/send", body=body, headers={**headers, **content_type}
    )
    assert answer.status == 400
    assert answer.json()["error"] == "bad_request" and "JSON object" in answer.json()["detail"]
    assert status_of(via, bulletin_id, headers) == "draft"


def test_a_misspelt_schedule_is_a_400_naming_the_field_and_sends_nothing(via, draft):
    bulletin_id, headers = draft
    answer = via.post(
        f"/api/v1/bulletins/{bulletin_id}/send",
        json={"scheduled_fr": "2027-01-05T09:00:00Z"},
        headers=headers,
    )
    assert answer.status == 400 and "'scheduled_fr'" in answer.json()["detail"]
    assert "scheduled_for" in answer.json()["detail"]  # what it does take
    assert status_of(via, bulletin_id, headers) == "draft"


def test_a_readable_schedule_or_no_body_is_still_accepted(via, draft):
    bulletin_id, headers = draft
    scheduled = via.post(
        f"/api/v1/bulletins/{bulletin_id}/send",
        json={"scheduled_for": "2037-01-05T09:00:00Z"},
        headers=headers,
    )
    assert scheduled.status == 202 and scheduled.json()["status"] == "scheduled"
    assert via.post(f"/api/v1/bulletins/{bulletin_id}/unschedule", headers=headers).status == 200
    sent = via.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers)
    assert sent.status == 202 and sent.json()["status"] == "sending"


def test_an_action_that_takes_no_body_refuses_one_it_cannot_read_or_with_fields(via, draft):
    bulletin_id, headers = draft
    url = f"/api/v1/bulletins/{bulletin_id}/cancel"
    broken = via.post(url, body=b'{"reason": "x"', headers={**headers, **JSON})
    assert broken.status == 400
    named = via.post(url, json={"reason": "typo"}, headers=headers)
    assert named.status == 400 and "'reason'" in named.json()["detail"]
    assert status_of(via, bulletin_id, headers) == "draft"
    assert via.post(url, json={}, headers=headers).status == 202


def test_unknown_fields_are_refused_by_name_and_nothing_is_created(via, draft):
    bulletin_id, headers = draft
    partnership = db.session.query(Partnership).one()
    body = factories.bulletin_body(partnership.id) | {"sms_bdy": "Hi"}
    created = via.post("/api/v1/bulletins", json=body, headers=headers)
    assert created.status == 400 and "'sms_bdy'" in created.json()["detail"]
    member = factories.member_row(membership_number="NEW1") | {"shoe_size": "9"}
    member = {k: v for k, v in member.items() if k not in ("partnerships", "topics", "channels")}
    put = via.request("PUT", "/api/v1/members/NEW1", json=member, headers=headers)
    assert put.status == 400 and "'shoe_size'" in put.json()["detail"]
    nested = via.post(
        "/api/v1/partnerships",
        json={"name": "P2", "region": factories.REGION, "kindd": "other"},
        headers=headers,
    )
    assert nested.status == 400 and "'kindd'" in nested.json()["detail"]
    db.session.expire_all()
    assert db.session.query(Bulletin).count() == 1
    assert db.session.query(Member).filter_by(membership_number="NEW1").count() == 0
    assert db.session.query(Partnership).count() == 1


@pytest.mark.parametrize("query", ["channel=&status=", "status=", "channel=%20"])
def test_an_empty_filter_is_a_400_not_everything(via, draft, query):
    bulletin_id, headers = draft
    answer = via.get(f"/api/v1/bulletins/{bulletin_id}/deliveries?{query}", headers=headers)
    assert answer.status == 400 and "is empty" in answer.json()["detail"]


def test_a_wrong_method_under_the_api_says_which_are_allowed(via, draft):
    _bulletin_id, headers = draft
    answer = via.request("DELETE", "/api/v1/bulletins", headers=headers)
    assert answer.status == 405
    assert answer.json()["error"] == "method_not_allowed"
    assert {"GET", "POST"} <= {m.strip() for m in answer.headers["Allow"].split(",")}


def test_the_document_refuses_what_the_server_refuses(via, draft):
    bulletin_id, headers = draft
    paths = build_spec()["paths"]
    schema = paths["/bulletins"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["channels"]["minItems"] == 1
    assert schema["additionalProperties"] is False
    partnership = db.session.query(Partnership).one()
    body = factories.bulletin_body(partnership.id) | {"channels": []}
    assert via.post("/api/v1/bulletins", json=body, headers=headers).status == 422

    member = paths["/members/{membership_number}"]["put"]["requestBody"]
    member = member["content"]["application/json"]["schema"]
    assert {"region", "service_group"} <= set(member["required"])
    assert [b["required"] for b in member["anyOf"]] == [["email"], ["mobile"]]
    nobody = {"region": factories.REGION, "service_group": "health"}
    assert via.request("PUT", "/api/v1/members/X1", json=nobody, headers=headers).status == 422

    test_send = paths["/bulletins/{id}/test-send"]["post"]["requestBody"]
    assert [b["required"] for b in test_send["content"]["application/json"]["schema"]["anyOf"]]
    url = f"/api/v1/bulletins/{bulletin_id}/test-send"
    assert via.post(url, json={}, headers=headers).status == 422

    template = paths["/templates"]["post"]["requestBody"]["content"]["application/json"]
    assert len(template["schema"]["anyOf"]) == 3
    assert via.post("/api/v1/templates", json={"name": "x"}, headers=headers).status == 422

    page = next(
        p for p in paths["/bulletins/{id}/deliveries"]["get"]["parameters"] if p["name"] == "page"
    )
    too_far = page["schema"]["maximum"] + 1
    deliveries = f"/api/v1/bulletins/{bulletin_id}/deliveries?page={too_far}"
    assert via.get(deliveries, headers=headers).status == 422


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("partnerships", "Salford;Bolton", "partnerships must be a list"),
        ("mobile", 7911123456, "mobile must be text or null"),
        ("first_name", 12, "first_name must be text"),
        ("topics", ["bargaining", 3], "each item of topics must be text"),
    ],
)
def test_a_member_field_of_the_wrong_json_type_is_refused(via, draft, field, value, said):
    _bulletin_id, headers = draft
    body = {
        "first_name": "Ana",
        "region": factories.REGION,
        "service_group": "health",
        "email": "ana@example.org",
        field: value,
    }
    answer = via.request("PUT", "/api/v1/members/T1", json=body, headers=headers)
    assert answer.status == 422 and said in answer.json()["detail"]
    db.session.expire_all()
    assert db.session.query(Member).filter_by(membership_number="T1").count() == 0


def test_a_bulletin_with_a_field_of_the_wrong_type_is_refused(via, draft):
    _bulletin_id, headers = draft
    partnership = db.session.query(Partnership).one()
    body = factories.bulletin_body(partnership.id) | {"audience": {"regions": "North West"}}
    answer = via.post("/api/v1/bulletins", json=body, headers=headers)
    assert answer.status == 422 and "audience.regions must be a list" in answer.json()["detail"]
    db.session.expire_all()
    assert db.session.query(Bulletin).count() == 1
