"""What the preference page says a member will get is what arrives: after each choice a
real worker sends one bulletin per topic on both channels, and the member's inbox and
phone hold exactly what the page promised, no more and no less."""

from __future__ import annotations

import re

import pytest

from commsvc.extensions import db
from commsvc.models import Topic
from tests import factories
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = pytest.mark.e2e
WAYS = {"by email and text": {"email", "sms"}, "by email": {"email"}, "by text": {"sms"}}


def promised(page: str) -> dict[str, set[str]]:
    """Per topic, the channels the page's "What you will get" box names."""
    box = page.split('id="outlook"', 1)[1].split("</section>", 1)[0]
    if "You will get nothing from us." in box:
        return {}
    only = re.search(r"nothing from us except service messages \(([^)]*)\), ([^.]*)\.", box)
    if only:
        return {name: WAYS[only.group(2)] for name in only.group(1).split(", ")}
    items = re.findall(r'<li data-topic="([^"]+)">[^:]*: ([^<]+)</li>', box)
    return {name: WAYS[ways.strip()] for name, ways in items}


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def arrived(client, headers, partnership_id, email_sink, sms_sink, address, mobile):
    """Send a bulletin on every topic on both channels; what reached this member."""
    seen_emails, seen_texts = len(email_sink.parsed()), len(sms_sink.messages)
    topics = [(t.name, t.kind) for t in db.session.query(Topic).order_by(Topic.name)]
    for name, kind in topics:
        body = factories.bulletin_body(
            partnership_id,
            title=f"About {name}",
            topic=name,
            subject=f"Subject {name}",
            sms_body=f"Text {name}",
        )
        if kind == "service":  # an organiser must say why it overrides members' choices
            body["service_reason"] = "The ballot notice the union's rules require"
        created = client.post("/api/v1/bulletins", json=body, headers=headers)
        assert created.status_code == 201, created.get_json()
        bulletin_id = created.get_json()["id"]
        assert client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers).status_code
        wait_until_sent(client, headers, bulletin_id)
    got: dict[str, set[str]] = {}
    for message in email_sink.parsed()[seen_emails:]:
        if str(message["To"]) == address:
            got.setdefault(str(message["Subject"]).removeprefix("Subject "), set()).add("email")
    for text in sms_sink.messages[seen_texts:]:
        if text["to"] == mobile:
            got.setdefault(text["body"].split("\n")[0].removeprefix("Text "), set()).add("sms")
    return got


@pytest.mark.parametrize(
    "choice, says",
    [
        ({"topic": ["bargaining"], "email": "on", "sms": "on"}, None),
        ({"topic": [], "email": "on"}, None),
        ({"topic": ["bargaining"], "sms": "on", "stop_everything": "on"}, "except service"),
        ({"topic": ["bargaining"]}, "except service"),
    ],
    ids=["everything", "email-only-no-campaigns", "stop-everything", "every-channel-off"],
)
def test_what_arrives_after_a_choice_is_what_the_page_said(
    app, client, worker, email_sink, sms_sink, choice, says
):
    partnership = factories.partnership()
    factories.topics("bargaining")
    factories.topics("ballots", kind="service")
    member = factories.member(email="sian@example.org", mobile="07911 123555")
    address, mobile = member.email, member.mobile
    url = factories.member_links().preferences_url(member.public_id)
    page = client.get(url).get_data(as_text=True)
    ids = {t.name: str(t.id) for t in db.session.query(Topic)}
    form = {**choice, "topic": [ids[n] for n in choice["topic"]], "csrf_token": csrf(page)}
    page = client.post(url, data=form).get_data(as_text=True)
    assert "Saved." in page
    if says:
        assert says in page
    headers = factories.api_key()
    got = arrived(client, headers, partnership.id, email_sink, sms_sink, address, mobile)
    assert got == promised(page)
    assert promised(page).get("ballots"), "service messages never vanish silently"


def test_unticking_a_service_topic_cannot_stop_it(app, client, worker, email_sink, sms_sink):
    partnership = factories.partnership()
    factories.topics("bargaining")
    factories.topics("ballots", kind="service")
    member = factories.member()
    address, mobile = member.email, member.mobile
    url = factories.member_links().preferences_url(member.public_id)
    page = client.get(url).get_data(as_text=True)
    ballots = str(db.session.query(Topic).filter_by(name="ballots").one().id)
    assert f'value="{ballots}"' not in page  # shown as always sent, not as a box
    assert "Always sent" in page
    # A hand-made form that leaves ballots out changes nothing about ballots.
    form = {"csrf_token": csrf(page), "topic": [], "email": "on", "sms": "on"}
    page = client.post(url, data=form).get_data(as_text=True)
    assert promised(page) == {"ballots": {"email", "sms"}}
    got = arrived(
        client, factories.api_key(), partnership.id, email_sink, sms_sink, address, mobile
    )
    assert got == {"ballots": {"email", "sms"}}


def test_a_bounced_address_is_not_promised(app, client, worker, email_sink, sms_sink):
    from commsvc.services.members import suppression

    partnership = factories.partnership()
    factories.topics("bargaining")
    member = factories.member()
    address, mobile = member.email, member.mobile
    suppression.suppress("email", address, "hard_bounce")
    db.session.commit()
    page = client.get(factories.member_links().preferences_url(member.public_id))
    page = page.get_data(as_text=True)
    assert "We cannot send email to" in page
    assert promised(page) == {"bargaining": {"sms"}}
    got = arrived(
        client, factories.api_key(), partnership.id, email_sink, sms_sink, address, mobile
    )
    assert got == {"bargaining": {"sms"}}
