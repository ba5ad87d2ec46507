"""API for composing: approve, preview, templates, warnings (duplicates, long SMS)."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Bulletin, MessageTemplate
from tests import factories


@pytest.fixture
def setup(app):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows(
        [
            factories.member_row(membership_number="H1", first_name="Hana", service_group="health"),
            factories.member_row(
                membership_number="L1",
                first_name="Lee",
                service_group="local_government",
                employer=factories.S31_EMPLOYERS[1],
            ),
        ]
    )
    return partnership, factories.api_key()


def create(client, headers, partnership, **overrides):
    response = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(partnership.id, **overrides),
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_preview_renders_a_sample_of_each_service_group_on_every_channel(client, setup):
    partnership, headers = setup
    bulletin = create(client, headers, partnership)
    items = client.post(f"/api/v1/bulletins/{bulletin['id']}/preview", headers=headers).get_json()[
        "items"
    ]
    assert [i["member"]["first_name"] for i in items] == ["Hana", "Lee"]
    lee = items[1]
    assert lee["email"]["subject"] == "Pay offer: have your say, Lee"
    assert "Dear Lee" in lee["email"]["text"] and "<strong>" in lee["email"]["html"]
    assert lee["sms"]["text"].splitlines()[-1].startswith("Opt out: http")
    assert lee["sms"]["encoding"] == "GSM-7" and lee["sms"]["segments"] == 1


def test_preview_for_a_chosen_member_and_bad_input(client, setup):
    partnership, headers = setup
    bulletin = create(client, headers, partnership, channels=["sms"])
    url = f"/api/v1/bulletins/{bulletin['id']}/preview"
    (item,) = client.post(url, json={"membership_number": "H1"}, headers=headers).get_json()[
        "items"
    ]
    assert item["email"] is None and item["sms"]["text"].startswith("Hi Hana,")
    missing = client.post(url, json={"membership_number": "ZZ"}, headers=headers)
    assert missing.status_code == 404 and "no member ZZ" in missing.get_json()["detail"]
    bad = client.post(url, json={"membership_number": 7}, headers=headers)
    assert bad.status_code == 422
    assert client.post(url, json=[1], headers=headers).status_code == 400


def test_a_schedule_in_the_past_is_a_4xx_and_nothing_is_sent(client, setup):
    partnership, headers = setup
    created = create(client, headers, partnership)
    for past in ("2020-06-01T09:00:00Z", "2020-06-01T10:00:00+01:00"):
        response = client.post(
            f"/api/v1/bulletins/{created['id']}/send", json={"scheduled_for": past}, headers=headers
        )
        assert response.status_code == 422
        assert "has passed" in response.get_json()["detail"]
    assert db.session.get(Bulletin, created["id"]).status == "draft"
    later = client.post(
        f"/api/v1/bulletins/{created['id']}/send",
        json={"scheduled_for": "2099-06-01T09:00:00Z"},
        headers=headers,
    )
    assert later.status_code == 202 and later.get_json()["status"] == "scheduled"


def test_a_service_topic_needs_a_reason_kept_with_the_bulletin(client, setup):
    partnership, headers = setup
    factories.topics("ballots", kind="service")
    refused = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(partnership.id, topic="ballots"),
        headers=headers,
    )
    assert refused.status_code == 422 and "service_reason" in refused.get_json()["detail"]
    created = create(
        client, headers, partnership, topic="ballots", service_reason="Statutory ballot notice"
    )
    assert created["service_reason"] == "Statutory ballot notice"


def test_approve_through_the_api_records_who(client, setup):
    partnership, headers = setup
    bulletin = create(client, headers, partnership)
    approved = client.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=headers)
    assert approved.status_code == 200
    body = approved.get_json()
    assert body["status"] == "approved" and body["approved_by"].startswith("api-key:")
    assert [(h["from"], h["to"]) for h in body["history"]] == [("draft", "approved")]
    again = client.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=headers)
    assert (
        again.status_code == 409 and "approved cannot become approved" in again.get_json()["detail"]
    )


def test_two_person_approval_refuses_the_same_key(client, setup):
    partnership, headers = setup
    partnership.requires_approval = True
    db.session.commit()
    bulletin = create(client, headers, partnership)
    refused = client.post(f"/api/v1/bulletins/{bulletin['id']}/send", headers=headers)
    assert refused.status_code == 422 and "approve" in refused.get_json()["detail"]
    self_approval = client.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=headers)
    assert self_approval.status_code == 403
    other = factories.api_key()
    assert (
        client.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=other).status_code == 200
    )
    sent = client.post(f"/api/v1/bulletins/{bulletin['id']}/send", headers=headers)
    assert sent.status_code == 202 and sent.get_json()["status"] == "sending"


def test_same_content_to_the_same_partnership_within_a_day_is_warned_about(client, setup):
    partnership, headers = setup
    first = create(client, headers, partnership)
    assert create(client, headers, partnership)["warnings"] == []  # nothing sent yet
    client.post(f"/api/v1/bulletins/{first['id']}/send", headers=headers)
    repeat = create(client, headers, partnership, title="Again")
    (warning,) = repeat["warnings"]
    assert f"bulletin {first['id']}" in warning and "last 24 hours" in warning
    different = create(client, headers, partnership, subject="Something else entirely")
    assert different["warnings"] == []
    other = factories.partnership("Trafford Care Trust", employers=["Trafford Council"])
    assert create(client, headers, other)["warnings"] == []


def test_long_sms_is_warned_about_and_too_long_is_refused(client, setup):
    partnership, headers = setup
    long = create(client, headers, partnership, sms_body="Dŵr " * 60)
    assert any("segments" in w for w in long["warnings"])
    refused = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(partnership.id, sms_body="ŵ" * 800),
        headers=headers,
    )
    assert refused.status_code == 422 and "the limit is 10" in refused.get_json()["detail"]


def test_templates_api_versions_and_use(client, setup):
    partnership, headers = setup
    body = {
        "name": "AGM",
        "subject": "AGM",
        "email_body": "Come, {{ member.first_name }}",
        "sms_body": "AGM soon",
    }
    first = client.post("/api/v1/templates", json=body, headers=headers)
    assert first.status_code == 201 and first.get_json()["version"] == 1
    second = client.post("/api/v1/templates", json={**body, "subject": "AGM 2"}, headers=headers)
    assert second.get_json()["version"] == 2
    listing = client.get("/api/v1/templates", headers=headers).get_json()["items"]
    assert [(t["name"], t["version"]) for t in listing] == [("AGM", 2)]
    versions = client.get("/api/v1/templates?name=AGM", headers=headers).get_json()["items"]
    assert [t["version"] for t in versions] == [1, 2]
    one = client.get(f"/api/v1/templates/{first.get_json()['id']}", headers=headers).get_json()
    assert one["subject"] == "AGM"
    bulletin = create(
        client,
        headers,
        partnership,
        template=one["id"],
        subject=None,
        email_body=None,
        sms_body=None,
    )
    assert bulletin["template"] == {"id": one["id"], "name": "AGM", "version": 1}
    assert client.get("/api/v1/templates/999", headers=headers).status_code == 404
    bad = client.post("/api/v1/templates", json={**body, "sms_body": "{{ x }}"}, headers=headers)
    assert bad.status_code == 422 and "SMS body, line 1" in bad.get_json()["detail"]
    assert (
        client.post("/api/v1/templates", json={**body, "name": ""}, headers=headers).status_code
        == 422
    )
    viewer = factories.api_key(role="viewer", regions=[factories.REGION])
    assert client.post("/api/v1/templates", json=body, headers=viewer).status_code == 403
    assert MessageTemplate.query.count() == 2
    nonsense = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(partnership.id, template="AGM"),
        headers=headers,
    )
    assert (
        nonsense.status_code == 422 and "template must be the id" in nonsense.get_json()["detail"]
    )
    assert db.session.query(Bulletin).count() == 1


def test_openapi_describes_the_compose_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/bulletins/{id}/approve",
        "/bulletins/{id}/preview",
        "/templates",
        "/templates/{id}",
        "/bulletins/{id}/test-send",
    ):
        assert path in paths
    assert "/members/{membership_number}" in paths and "/bulletins/{id}/send" in paths


def test_a_previews_links_change_nobodys_choices(client, setup):
    import re

    from commsvc.models import ConsentRecord, Member

    partnership, headers = setup
    bulletin = create(client, headers, partnership)
    viewer = factories.api_key("viewer", [factories.REGION])
    (hana, _lee) = client.post(
        f"/api/v1/bulletins/{bulletin['id']}/preview", headers=viewer
    ).get_json()["items"]
    shown = hana["email"]["text"] + hana["email"]["html"] + hana["sms"]["text"]
    found = set(re.findall(r"https?://[^\s\"<>)]+", shown))
    assert found and all("/test-copy" in url for url in found), found
    consents = db.session.query(ConsentRecord).count()
    for url in found:
        path = url.split("://", 1)[1].split("/", 1)[1].replace("&amp;", "&")
        page = client.get("/" + path)
        assert page.status_code == 200 and "This is a test copy" in page.get_data(as_text=True)
        one_click = client.post("/" + path, data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 200
        assert "nothing has been changed" in one_click.get_data(as_text=True)
    member = db.session.query(Member).filter_by(membership_number="H1").one()
    db.session.refresh(member)
    assert not member.opted_out and member.email_enabled and member.all_topics
    assert db.session.query(ConsentRecord).count() == consents


def test_templates_belong_to_a_region_and_organisers_see_only_theirs(client, setup):
    partnership, admin = setup
    factories.partnership(
        "Leeds Health and Care Partnership", region="Yorkshire", employers=["Leeds City Council"]
    )
    north = factories.api_key("organiser", [factories.REGION])
    yorkshire = factories.api_key("organiser", ["Yorkshire"])
    body = {"name": "AGM", "subject": "AGM", "email_body": "Come", "sms_body": "AGM soon"}
    mine = client.post("/api/v1/templates", json=body, headers=north)
    assert mine.status_code == 201 and mine.get_json()["region"] == factories.REGION
    theirs = client.post(
        "/api/v1/templates", json={**body, "subject": "Leeds AGM"}, headers=yorkshire
    )
    assert theirs.status_code == 201 and theirs.get_json()["version"] == 1  # versions per region
    theirs_id = theirs.get_json()["id"]
    listed = client.get("/api/v1/templates", headers=north).get_json()["items"]
    assert [(t["subject"], t["region"]) for t in listed] == [("AGM", factories.REGION)]
    assert client.get(f"/api/v1/templates/{theirs_id}", headers=north).status_code == 404
    used = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(partnership.id, template=theirs_id, subject=None),
        headers=north,
    )
    assert used.status_code == 404
    elsewhere = client.post(
        "/api/v1/templates", json={**body, "region": "Yorkshire"}, headers=north
    )
    assert elsewhere.status_code == 422
    assert elsewhere.get_json()["detail"] == "There is no region called 'Yorkshire'."
    everything = client.get("/api/v1/templates", headers=admin).get_json()["items"]
    assert sorted(t["subject"] for t in everything) == ["AGM", "Leeds AGM"]
    nobody = factories.api_key("viewer")
    assert client.get("/api/v1/templates", headers=nobody).get_json()["items"] == []
