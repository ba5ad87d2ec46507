"""A Welsh member and an English member of one bulletin each get their own language,
by email and by SMS, from a real worker; the Welsh member's pages open in Welsh and
stay in Welsh."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Member, Topic
from tests import factories
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = pytest.mark.e2e


def test_each_member_gets_their_own_language_by_email_and_sms(
    app, client, worker, email_sink, sms_sink
):
    partnership = factories.partnership()
    partnership.name_cy = "Partneriaeth Adran 31 Salford"
    factories.topics("bargaining")
    db.session.query(Topic).filter_by(name="bargaining").one().name_cy = "bargeinio"
    db.session.commit()
    rows = [
        factories.member_row(first_name="Siân", email="sian@example.org", language="cy"),
        factories.member_row(first_name="Sam", email="sam@example.org", language="en"),
    ]
    header = [*factories.FIELDS, "language"]
    from io import BytesIO

    from commsvc.services.members import importer

    report = importer.import_members(BytesIO(factories.csv_bytes(rows, header)))
    assert report.ok, report.errors
    welsh = db.session.query(Member).filter_by(email="sian@example.org").one()
    assert welsh.language == "cy"
    sian_mobile, sam_mobile = (
        welsh.mobile,
        db.session.query(Member).filter_by(email="sam@example.org").one().mobile,
    )

    headers = factories.api_key()
    body = factories.bulletin_body(
        partnership.id,
        subject="Pay offer, {{ member.first_name }}",
        subject_cy="Cynnig cyflog, {{ member.first_name }}",
        email_body="Dear {{ member.first_name }}, the {{ partnership.name }} offer is out.",
        email_body_cy="Annwyl {{ member.first_name }}, mae cynnig {{ partnership.name }} allan.",
        sms_body="Hi {{ member.first_name }}, the pay offer is out.",
        sms_body_cy="Helo {{ member.first_name }}, mae'r cynnig cyflog allan.",
    )
    created = client.post("/api/v1/bulletins", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    bulletin_id = created.get_json()["id"]
    assert client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers).status_code == 202
    wait_until_sent(client, headers, bulletin_id)

    emails = {str(m["To"]): m for m in email_sink.parsed()}
    texts = {t["to"]: t["body"] for t in sms_sink.messages}
    cy, en = emails["sian@example.org"], emails["sam@example.org"]
    assert str(cy["Subject"]) == "Cynnig cyflog, Siân"
    assert str(en["Subject"]) == "Pay offer, Sam"
    cy_html = cy.get_body(("html",)).get_content()
    en_html = en.get_body(("html",)).get_content()
    assert "Annwyl Siân, mae cynnig Partneriaeth Adran 31 Salford allan." in cy_html
    assert '<html lang="cy">' in cy_html and '<html lang="en">' in en_html
    assert "Dear Sam, the Salford Integrated Care Section 31 Partnership" in en_html
    assert "Annwyl" not in en_html
    assert texts[sian_mobile].startswith("Helo Siân, mae'r cynnig cyflog allan.")
    assert texts[sam_mobile].startswith("Hi Sam, the pay offer is out.")

    # The Welsh member's link opens a Welsh page, and the next page stays Welsh.
    text = cy.get_body(("plain",)).get_content()
    link = text.split("Dewiswch beth rydych chi'n ei gael: ")[1].split()[0]
    page = client.get(link.replace("http://127.0.0.1:5000", ""), headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert '<html lang="cy">' in html and "Bargeinio" in html
    again = client.get(link.replace("http://127.0.0.1:5000", ""), headers={"Accept-Language": "en"})
    assert '<html lang="cy">' in again.get_data(as_text=True)


def test_welsh_member_without_a_welsh_version_gets_english(
    app, client, worker, email_sink, sms_sink
):
    partnership = factories.partnership()
    factories.topics("bargaining")
    member = factories.member(email="cy@example.org")
    member.language = "cy"
    db.session.commit()
    headers = factories.api_key()
    created = client.post(
        "/api/v1/bulletins", json=factories.bulletin_body(partnership.id), headers=headers
    )
    bulletin_id = created.get_json()["id"]
    client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers)
    wait_until_sent(client, headers, bulletin_id)
    (email,) = email_sink.parsed()
    assert str(email["Subject"]).startswith("Pay offer: have your say")
    assert '<html lang="en">' in email.get_body(("html",)).get_content()
    (text,) = sms_sink.messages
    assert text["body"].startswith("Hi Alex, the pay offer is out.")
