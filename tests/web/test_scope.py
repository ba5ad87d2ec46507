"""An organiser of one region cannot see, export or send to another region's
partnerships, bulletins or members, through any page or API call; a viewer reads and
changes nothing."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Bulletin
from commsvc.services.accounts import auth
from tests import factories
from tests.web.admin_session import PASSWORD, log_in, token_from

NORTH, YORKSHIRE = "North West", "Yorkshire"
LEEDS = "Leeds Health and Care Partnership"


@pytest.fixture
def regions(app, client):
    """A partnership, members and a draft bulletin in each of two regions."""
    north = factories.partnership()
    leeds = factories.partnership(
        LEEDS, region=YORKSHIRE, employers=["Leeds City Council"], kind="joint_working_group"
    )
    factories.topics()
    factories.import_rows(
        [factories.member_row() for _ in range(3)]
        + [
            factories.member_row(
                membership_number="Y000001",
                region=YORKSHIRE,
                branch="Leeds Branch",
                employer="Leeds City Council",
                service_group="local_government",
            )
        ]
    )
    admin_key = factories.api_key()
    ids = {}
    for name, partnership in (("north", north), ("leeds", leeds)):
        created = client.post(
            "/api/v1/bulletins",
            headers=admin_key,
            json=factories.bulletin_body(partnership.id, title=f"{name} news"),
        )
        assert created.status_code == 201, created.get_json()
        ids[name] = created.get_json()["id"]
    return {
        "north": north.id,
        "leeds": leeds.id,
        "north_bulletin": ids["north"],
        "leeds_bulletin": ids["leeds"],
    }


def test_organiser_pages_answer_404_for_another_regions_things(client, regions):
    auth.create_user("nw@union.example", PASSWORD, "organiser", [NORTH])
    log_in(client, "nw@union.example")
    leeds_bulletin = regions["leeds_bulletin"]
    for path in (
        f"/admin/bulletins/{leeds_bulletin}",
        f"/admin/bulletins/{leeds_bulletin}/status.json",
        f"/admin/bulletins/{leeds_bulletin}/report",
        f"/admin/bulletins/{leeds_bulletin}/deliveries.csv",
        f"/admin/partnerships/{regions['leeds']}/compose",
        "/admin/members/Y000001",
        "/admin/members/Y000001/export.json",
    ):
        assert client.get(path).status_code == 404, path
    members_page = client.get("/admin/members?q=Y000001").get_data(as_text=True)
    assert "Y000001" not in members_page.replace('value="Y000001"', "")
    token = token_from(client, "/admin")
    for action in ("send", "pause", "resume", "cancel"):
        response = client.post(
            f"/admin/bulletins/{leeds_bulletin}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 404, action
    response = client.post(
        f"/admin/partnerships/{regions['leeds']}/compose",
        data={
            "csrf_token": token,
            "title": "Sneaky",
            "topic": "bargaining",
            "channels": "email",
            "subject": "s",
            "email_body": "b",
        },
    )
    assert response.status_code == 404
    assert db.session.get(Bulletin, leeds_bulletin).status == "draft"
    assert db.session.query(Bulletin).count() == 2
    for path in ("/admin", "/admin/partnerships"):
        page = client.get(path).get_data(as_text=True)
        assert factories.S31 in page and LEEDS not in page and "leeds news" not in page
    assert client.get(f"/admin/bulletins/{regions['north_bulletin']}/report").status_code == 200


def test_organiser_api_key_answers_404_for_another_regions_things(client, regions):
    headers = factories.api_key("organiser", [NORTH])
    leeds_bulletin = regions["leeds_bulletin"]
    for path in (
        f"/api/v1/bulletins/{leeds_bulletin}",
        f"/api/v1/bulletins/{leeds_bulletin}/deliveries",
        f"/api/v1/partnerships/{regions['leeds']}",
        "/api/v1/members/Y000001",
    ):
        assert client.get(path, headers=headers).status_code == 404, path
    for action in ("send", "pause", "resume", "cancel"):
        response = client.post(f"/api/v1/bulletins/{leeds_bulletin}/{action}", headers=headers)
        assert response.status_code == 404, action
    response = client.post(
        "/api/v1/bulletins", headers=headers, json=factories.bulletin_body(regions["leeds"])
    )
    assert response.status_code == 404
    assert client.delete("/api/v1/members/Y000001", headers=headers).status_code == 404
    preview = client.post(
        "/api/v1/audience/preview",
        headers=headers,
        json={"partnership": regions["leeds"], "topic": "bargaining", "channels": ["email"]},
    )
    assert preview.status_code == 404
    listed = client.get("/api/v1/partnerships", headers=headers).get_json()["items"]
    assert [p["name"] for p in listed] == [factories.S31]
    bulletins = client.get("/api/v1/bulletins", headers=headers).get_json()["items"]
    assert [b["title"] for b in bulletins] == ["north news"]
    assert db.session.get(Bulletin, leeds_bulletin).status == "draft"
    admin = factories.api_key()
    assert client.get("/api/v1/members/Y000001", headers=admin).get_json()["erased"] is False


def test_viewer_reads_but_every_change_is_refused(client, regions):
    auth.create_user("viewer@union.example", PASSWORD, "viewer", factories.home_regions())
    log_in(client, "viewer@union.example")
    north_bulletin = regions["north_bulletin"]
    page = client.get(f"/admin/bulletins/{north_bulletin}").get_data(as_text=True)
    assert "north news" in page and "Send now" not in page
    assert client.get(f"/admin/bulletins/{north_bulletin}/report").status_code == 200
    token = token_from(client, "/admin")
    for action in ("send", "pause", "cancel"):
        response = client.post(
            f"/admin/bulletins/{north_bulletin}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 403, action
    assert client.get("/admin/accounts").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    headers = factories.api_key("viewer", [NORTH])
    assert client.get(f"/api/v1/bulletins/{north_bulletin}", headers=headers).status_code == 200
    assert (
        client.post(f"/api/v1/bulletins/{north_bulletin}/send", headers=headers).status_code == 403
    )
    assert (
        client.post(
            "/api/v1/bulletins", headers=headers, json=factories.bulletin_body(regions["north"])
        ).status_code
        == 403
    )
    assert client.delete("/api/v1/members/Y000001", headers=headers).status_code == 403
    assert db.session.get(Bulletin, north_bulletin).status == "draft"
    assert db.session.query(Bulletin).count() == 2


def test_admin_sees_every_region(client, regions):
    auth.create_user("admin@union.example", PASSWORD, "admin", [])
    log_in(client, "admin@union.example")
    page = client.get("/admin/partnerships").get_data(as_text=True)
    assert factories.S31 in page and LEEDS in page
    assert client.get(f"/admin/bulletins/{regions['leeds_bulletin']}").status_code == 200


def test_a_reminder_preview_cannot_name_another_regions_consultation(client, regions):
    """`audience.not_answered` reads another region's bulletin as if it did not exist."""
    admin_key = factories.api_key()
    asked = client.post(
        "/api/v1/bulletins",
        headers=admin_key,
        json=factories.bulletin_body(
            regions["leeds"], title="Leeds pay consultation", question=factories.question()
        ),
    )
    assert asked.status_code == 201, asked.get_json()
    north_key = factories.api_key(role="organiser", regions=[NORTH])
    body = {
        "partnership": regions["north"],
        "topic": "bargaining",
        "channels": ["email"],
        "audience": {"not_answered": asked.get_json()["id"]},
    }
    response = client.post("/api/v1/audience/preview", headers=north_key, json=body)
    assert response.status_code == 422
    assert "there is no bulletin" in response.get_json()["detail"]
