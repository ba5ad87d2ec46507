"""The REST API: bad input gets a JSON 4xx and changes nothing; scope is enforced."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Bulletin, Member, Partnership
from tests import factories


@pytest.fixture
def setup(app):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row() for _ in range(3)])
    return partnership, factories.api_key()


def test_requests_without_a_valid_key_get_401(client, setup):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/partnerships", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"partnership": "one"}, "partnership must be the id"),
        ({"partnership": 999}, "There is no partnership 999"),
        ({"title": ""}, "title is required"),
        ({"topic": "knitting"}, "There is no topic called 'knitting'"),
        ({"channels": ["fax"]}, "channels must be a non-empty list"),
        ({"channels": []}, "channels must be a non-empty list"),
        ({"subject": None}, "subject is required"),
        ({"email_body": 42}, "email_body must be text"),
        ({"sms_body": "x" * 2000}, "sms_body must be at most"),
        ({"audience": {"planets": ["Mars"]}}, "unknown audience filters: planets"),
        ({"audience": {"service_groups": ["fire"]}}, "is not health or local_government"),
        ({"email_body": "Hi {{ member.first_name "}, "line 1"),
        ({"email_body": "Hi {{ member.shoe_size }}"}, "has no attribute 'shoe_size'"),
        ({"subject": "{{ ''.__class__.__mro__ }}"}, "not allowed"),
    ],
)
def test_bad_bulletin_body_gets_json_4xx_and_nothing_is_saved(client, setup, change, detail):
    partnership, headers = setup
    body = factories.bulletin_body(partnership.id, **change)
    response = client.post("/api/v1/bulletins", json=body, headers=headers)
    assert 400 <= response.status_code < 500
    payload = response.get_json()
    assert set(payload) == {"error", "detail"}
    assert detail in payload["detail"]
    assert db.session.query(Bulletin).count() == 0


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"", b"null"])
def test_body_that_is_not_a_json_object_gets_400(client, setup, raw):
    _partnership, headers = setup
    response = client.post(
        "/api/v1/bulletins", data=raw, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON object" in response.get_json()["detail"]


def test_unknown_bulletin_and_unknown_route_answer_json_404(client, setup):
    _partnership, headers = setup
    assert client.get("/api/v1/bulletins/12345", headers=headers).status_code == 404
    response = client.get("/api/v1/nothing-here", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_create_then_read_bulletin_shows_audience_and_counts(client, setup):
    partnership, headers = setup
    created = client.post(
        "/api/v1/bulletins", json=factories.bulletin_body(partnership.id), headers=headers
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "draft" and body["audience_size"] == 3
    shown = client.get(f"/api/v1/bulletins/{body['id']}", headers=headers).get_json()
    assert shown["counts"] == {} and shown["progress"] == 0.0


def test_partnerships_can_be_listed_and_created(client, setup):
    _partnership, headers = setup
    created = client.post(
        "/api/v1/partnerships",
        headers=headers,
        json={
            "name": "Stockport Children's Trust",
            "kind": "childrens_trust",
            "region": "North West",
            "employers": ["Stockport Council", " Stockport Council"],  # one employer, named twice
        },
    )
    assert created.status_code == 201
    assert created.get_json()["employers"] == ["Stockport Council"]
    items = client.get("/api/v1/partnerships", headers=headers).get_json()["items"]
    assert {p["name"] for p in items} == {factories.S31, "Stockport Children's Trust"}
    again = client.post(
        "/api/v1/partnerships",
        headers=headers,
        json={
            "name": "Stockport Children's Trust",
            "kind": "childrens_trust",
            "region": "North West",
        },
    )
    assert again.status_code == 422


def test_member_upsert_read_and_erase(client, setup):
    _partnership, headers = setup
    body = {
        "first_name": "Bethan",
        "last_name": "Hughes",
        "email": "bethan@example.org",
        "mobile": "07911 123457",
        "region": "North West",
        "service_group": "health",
        "topics": ["bargaining"],
        "channels": ["email", "sms"],
    }
    created = client.put("/api/v1/members/W123", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["mobile"] == "+447911123457"
    updated = client.put(
        "/api/v1/members/W123", json={**body, "last_name": "Jones"}, headers=headers
    )
    assert updated.status_code == 200 and updated.get_json()["last_name"] == "Jones"
    bad = client.put(
        "/api/v1/members/W124", json={**body, "email": "x", "mobile": "1"}, headers=headers
    )
    assert bad.status_code == 422
    assert "email 'x' is not valid" in bad.get_json()["detail"]
    erased = client.delete("/api/v1/members/W123", headers=headers)
    assert erased.status_code == 200
    assert client.get("/api/v1/members/W123", headers=headers).status_code == 404
    member = db.session.query(Member).filter(Member.erased_at.is_not(None)).one()
    assert member.email is None and member.first_name == ""


def test_organiser_of_another_region_sees_nothing_of_this_one(client, setup):
    partnership, admin_headers = setup
    factories.partnership(
        "Cardiff Joint Working Group",
        region="Wales",
        employers=["Cardiff Council"],
        kind="joint_working_group",
    )
    wales = factories.api_key(role="organiser", regions=["Wales"])
    created = client.post(
        "/api/v1/bulletins", json=factories.bulletin_body(partnership.id), headers=admin_headers
    ).get_json()
    assert client.get(f"/api/v1/partnerships/{partnership.id}", headers=wales).status_code == 404
    assert client.get(f"/api/v1/bulletins/{created['id']}", headers=wales).status_code == 404
    assert client.post(f"/api/v1/bulletins/{created['id']}/send", headers=wales).status_code == 404
    post = client.post(
        "/api/v1/bulletins", json=factories.bulletin_body(partnership.id), headers=wales
    )
    assert post.status_code == 404
    names = [
        p["name"] for p in client.get("/api/v1/partnerships", headers=wales).get_json()["items"]
    ]
    assert names == ["Cardiff Joint Working Group"]
    number = db.session.query(Member).first().membership_number
    assert client.get(f"/api/v1/members/{number}", headers=wales).status_code == 404
    assert db.session.get(Partnership, partnership.id) is not None


def test_viewer_can_read_but_not_change(client, setup):
    partnership, _admin = setup
    viewer = factories.api_key(role="viewer", regions=[factories.REGION])
    assert client.get("/api/v1/partnerships", headers=viewer).status_code == 200
    response = client.post(
        "/api/v1/bulletins", json=factories.bulletin_body(partnership.id), headers=viewer
    )
    assert response.status_code == 403


def test_openapi_document_lists_every_route(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/bulletins",
        "/bulletins/{id}/send",
        "/members/{membership_number}",
        "/partnerships",
        "/bulletins/{id}/deliveries",
    } <= set(spec["paths"])
