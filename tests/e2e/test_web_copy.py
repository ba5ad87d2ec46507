"""Every email links to its web copy: the member's own version behind a signed link;
a bulletin marked public also appears on its partnership's archive page with neutral
personal fields; the email and the pages are accessible in their structure."""

from __future__ import annotations

import re

import pytest

from commsvc.extensions import db
from commsvc.models import Member
from tests import factories
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = pytest.mark.e2e
BASE = "http://127.0.0.1:5000"


def send(client, headers, partnership_id, **body):
    created = client.post(
        "/api/v1/bulletins", json=factories.bulletin_body(partnership_id, **body), headers=headers
    )
    assert created.status_code == 201, created.get_json()
    bulletin_id = created.get_json()["id"]
    assert client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers).status_code == 202
    wait_until_sent(client, headers, bulletin_id)
    return bulletin_id


def test_each_email_links_to_the_members_own_web_copy_and_public_ones_reach_the_archive(
    app, client, worker, email_sink, sms_sink
):
    partnership = factories.partnership()
    factories.topics("bargaining")
    factories.member(first_name="Gwen", last_name="Pritchard", email="gwen@example.org")
    headers = factories.api_key()
    email_body = (
        "# Pay offer\n\nDear {{ member.first_name }} {{ member.last_name }} "
        "({{ member.membership_number }}), the offer is out."
    )
    public_id = send(
        client,
        headers,
        partnership.id,
        title="Internal title",
        subject="Pay offer for {{ member.first_name }}",
        email_body=email_body,
        public=True,
    )
    private_id = send(client, headers, partnership.id, title="Private", subject="Private news")

    first = next(m for m in email_sink.parsed() if "Pay offer" in str(m["Subject"]))
    html = first.get_body(("html",)).get_content()
    text = first.get_body(("plain",)).get_content()
    link = re.search(BASE + r"(/w/[^\s\"]+)", text).group(1)
    assert f'href="{BASE}{link}"' in html and "Read this bulletin in your web browser" in html
    # The email's structure: language, title, one main heading, landmarks.
    assert '<html lang="en">' in html and "<title>Pay offer for Gwen</title>" in html
    assert html.count("<h1") == 1 and "<h2" in html  # the organiser's heading moved down
    assert 'role="main"' in html and 'role="banner"' in html and 'role="contentinfo"' in html
    assert "Unsubscribe from bargaining messages" in html

    copy = client.get(link)
    assert copy.status_code == 200
    page = copy.get_data(as_text=True)
    assert "Dear Gwen Pritchard" in page and "<title>Pay offer for Gwen</title>" in page
    assert copy.headers["Cache-Control"] == "no-store"
    assert client.get(link[:-3] + "xyz").status_code in (400, 404)

    archive = client.get(f"/archive/{partnership.id}").get_data(as_text=True)
    assert "Pay offer for colleague" in archive
    assert "Private news" not in archive and "Internal title" not in archive
    public = client.get(f"/archive/{partnership.id}/{public_id}")
    shown = public.get_data(as_text=True)
    assert public.status_code == 200 and "Dear colleague" in shown
    member = db.session.query(Member).one()
    for personal in ("Gwen", "Pritchard", member.membership_number, "gwen@example.org"):
        assert personal not in shown
    assert "/p/" not in shown and "/u/" not in shown  # no member's links
    assert client.get(f"/archive/{partnership.id}/{private_id}").status_code == 404
