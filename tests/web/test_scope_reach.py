"""An organiser of one region cannot reach another region through names: a member
upsert naming another region's partnership, branch or employer, a partnership naming
another region's employer, and a preview's sample member all answer as if the other
region's things did not exist. An account with no regions sees none."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Member, Partnership
from commsvc.services.accounts import auth
from tests import factories
from tests.web.admin_session import PASSWORD, log_in

NORTH, YORKSHIRE = "North West", "Yorkshire"
LEEDS = "Leeds Health and Care Partnership"


@pytest.fixture
def regions(app):
    north = factories.partnership()
    leeds = factories.partnership(
        LEEDS, region=YORKSHIRE, employers=["Leeds City Council"], kind="joint_working_group"
    )
    factories.topics()
    factories.import_rows(
        [
            factories.member_row(first_name="Nora"),
            factories.member_row(
                membership_number="Y000001",
                first_name="Yolanda",
                region=YORKSHIRE,
                branch="Leeds Branch",
                employer="Leeds City Council",
                service_group="local_government",
            ),
        ]
    )
    return {"north": north.id, "leeds": leeds.id}


def _put(client, headers, **overrides):
    body = {k: v for k, v in factories.member_row(**overrides).items() if v != ""}
    for name in ("partnerships", "topics", "channels"):
        if name in body:
            body[name] = body[name].split(";")
    number = body.pop("membership_number")
    return client.put(f"/api/v1/members/{number}", headers=headers, json=body)


def test_organiser_cannot_put_a_member_into_another_regions_partnership(client, regions):
    headers = factories.api_key("organiser", [NORTH])
    refused = _put(client, headers, membership_number="N1", partnerships=LEEDS)
    missing = _put(client, headers, membership_number="N2", partnerships="No Such Partnership")
    assert refused.status_code == missing.status_code == 422
    assert refused.get_json()["detail"] == f"There is no partnership called {LEEDS!r}."
    assert missing.get_json()["detail"] == "There is no partnership called 'No Such Partnership'."
    assert db.session.query(Member).filter(Member.membership_number.in_(["N1", "N2"])).count() == 0
    assert db.session.query(Partnership).count() == 2
    mine = _put(client, headers, membership_number="N3", partnerships=factories.S31)
    assert mine.status_code == 201 and mine.get_json()["partnerships"] == [factories.S31]


def test_organiser_cannot_attach_another_regions_branch_or_employer(client, regions):
    headers = factories.api_key("organiser", [NORTH])
    branch = _put(client, headers, membership_number="N4", branch="Leeds Branch")
    assert branch.status_code == 422
    assert "There is no branch called 'Leeds Branch'" in branch.get_json()["detail"]
    employer = _put(client, headers, membership_number="N5", employer="Leeds City Council")
    assert employer.status_code == 422
    assert employer.get_json()["detail"] == "There is no employer called 'Leeds City Council'."
    partnership = client.post(
        "/api/v1/partnerships",
        headers=headers,
        json={"name": "Salford Care", "region": NORTH, "employers": ["Leeds City Council"]},
    )
    assert partnership.status_code == 422
    assert partnership.get_json()["detail"] == "There is no employer called 'Leeds City Council'."
    assert db.session.query(Partnership).filter_by(name="Salford Care").count() == 0
    assert db.session.query(Member).filter(Member.membership_number.in_(["N4", "N5"])).count() == 0
    admin = _put(client, factories.api_key(), membership_number="N6", employer="Leeds City Council")
    assert admin.status_code == 201 and admin.get_json()["employer"] == "Leeds City Council"


def test_preview_never_shows_another_regions_member(client, regions):
    # A Yorkshire member who works for a North West partnership's employer is in its audience.
    factories.import_rows(
        [
            factories.member_row(
                membership_number="Y000002",
                first_name="Yvette",
                region=YORKSHIRE,
                employer=factories.S31_EMPLOYERS[1],
                service_group="local_government",
            )
        ]
    )
    admin = factories.api_key()
    created = client.post(
        "/api/v1/bulletins", headers=admin, json=factories.bulletin_body(regions["north"])
    ).get_json()
    headers = factories.api_key("organiser", [NORTH])
    response = client.post(f"/api/v1/bulletins/{created['id']}/preview", headers=headers, json={})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Nora" in text and "Yvette" not in text and "Y000002" not in text
    as_admin = client.post(f"/api/v1/bulletins/{created['id']}/preview", headers=admin, json={})
    assert "Yvette" in as_admin.get_data(as_text=True)


def test_accounts_with_no_regions_see_no_region(client, regions):
    viewer = factories.api_key("viewer")
    organiser = factories.api_key("organiser")
    for headers in (viewer, organiser):
        assert client.get("/api/v1/partnerships", headers=headers).get_json()["items"] == []
        assert client.get("/api/v1/members/Y000001", headers=headers).status_code == 404
    listed = client.get("/api/v1/partnerships", headers=factories.api_key()).get_json()["items"]
    assert len(listed) == 2
    auth.create_user("nobody@union.example", PASSWORD, "organiser", [])
    log_in(client, "nobody@union.example")
    page = client.get("/admin/partnerships").get_data(as_text=True)
    assert factories.S31 not in page and LEEDS not in page
