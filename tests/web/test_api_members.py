"""The member API's subject-rights routes: export as JSON, erase; both scoped."""

from __future__ import annotations

from tests import factories
from tests.services.members.test_importer import NOT_A_NUMBER_WARNING


def test_export_returns_the_members_data_as_json(app, client):
    factories.topics()
    member = factories.member(first_name="Eira")
    response = client.get(
        f"/api/v1/members/{member.membership_number}/export", headers=factories.api_key()
    )
    assert response.status_code == 200
    data = response.get_json()
    assert data["profile"]["first_name"] == "Eira"
    assert set(data) == {"profile", "preferences", "consent_history", "deliveries", "answers"}


def test_export_of_another_regions_member_is_not_found(app, client):
    factories.member(region="Yorkshire")
    factories.member()
    headers = factories.api_key(role="organiser", regions=[factories.REGION])
    from commsvc.models import Member

    other = Member.query.join(Member.region).filter_by(name="Yorkshire").one()
    response = client.get(f"/api/v1/members/{other.membership_number}/export", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_erase_then_the_member_is_gone_and_their_address_suppressed(app, client):
    member = factories.member(email="gone@example.org")
    headers = factories.api_key()
    number = member.membership_number
    assert client.delete(f"/api/v1/members/{number}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/members/{number}", headers=headers).status_code == 404
    from commsvc.services.members import suppression

    assert suppression.is_suppressed("email", "gone@example.org")


def test_audience_preview_answers_counts_and_saves_nothing(app, client):
    partnership = factories.partnership()
    factories.topics()
    for channels in ("email", "email;sms", "sms"):
        factories.member(channels=channels)
    body = {
        "partnership": partnership.id,
        "topic": "bargaining",
        "channels": ["email", "sms"],
        "audience": {"service_groups": ["health"]},
    }
    response = client.post("/api/v1/audience/preview", json=body, headers=factories.api_key())
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["audience_size"] == 3 and data["reached"] == 3
    assert data["channels"]["email"] == {
        "will_receive": 2,
        "skipped": 1,
        "suppressed": 0,
        "no_address": 0,
    }
    from commsvc.models import Bulletin

    assert Bulletin.query.count() == 0


def test_audience_preview_rejects_bad_bodies_clearly(app, client):
    partnership = factories.partnership()
    factories.topics()
    headers = factories.api_key()
    for body, status in (
        ({"partnership": "x", "topic": "bargaining"}, 422),
        ({"partnership": partnership.id, "topic": "nope"}, 422),
        ({"partnership": partnership.id, "topic": "bargaining", "channels": ["fax"]}, 422),
        ({"partnership": partnership.id, "topic": "bargaining", "audience": {"pets": []}}, 422),
        ({"partnership": 999, "topic": "bargaining"}, 404),
    ):
        response = client.post("/api/v1/audience/preview", json=body, headers=headers)
        assert response.status_code == status and response.get_json()["detail"]
    assert "/audience/preview" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_upsert_keeps_a_member_without_an_unusable_mobile_and_says_so(app, client):
    body = {
        "first_name": "Eira",
        "email": "eira@example.org",
        "mobile": "0123",
        "region": "North West",
        "service_group": "health",
        "channels": ["email", "sms"],
    }
    response = client.put("/api/v1/members/W1", json=body, headers=factories.api_key())
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["email"] == "eira@example.org" and data["mobile"] is None
    assert data["channels"] == ["email"]
    assert data["warnings"] == [
        NOT_A_NUMBER_WARNING,
        "channel sms chosen but there is no mobile: left out",
    ]
    refused = client.put(
        "/api/v1/members/W2",
        json={**body, "email": "nope"},
        headers=factories.api_key(),
    )
    assert refused.status_code == 422 and "not a valid phone number" in refused.get_json()["detail"]
    assert client.get("/api/v1/members/W2", headers=factories.api_key()).status_code == 404
