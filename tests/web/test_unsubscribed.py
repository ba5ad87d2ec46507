"""After unsubscribing a member can undo in one tap, reach all their choices, and switch
language; unsubscribe links keep working for years; an expired preference link offers
a fresh one, sent only to the member's own address."""

from __future__ import annotations

import re

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member, Topic
from commsvc.services.bulletins import links
from tests import factories

ONE_CLICK = {
    "data": "List-Unsubscribe=One-Click",
    "content_type": "application/x-www-form-urlencoded",
}


@pytest.fixture
def member(app):
    factories.topics("bargaining", "campaigns")
    return factories.member(first_name="Siân", email="sian@example.org")


def bargaining():
    return db.session.query(Topic).filter_by(name="bargaining").one().id


def subscribed(member_id, topic_id):
    db.session.expire_all()
    m = db.session.get(Member, member_id)
    pref = {p.topic_id: p.subscribed for p in m.topic_preferences}
    return pref.get(topic_id, m.all_topics)


def issued_ago(app, salt, value, days):
    class Old(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - days * 24 * 3600

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=Old).dumps(value)


def test_unsubscribed_page_offers_undo_choices_and_language(client, member):
    url = factories.member_links().unsubscribe_url(member.public_id, bargaining())
    page = client.post(url, **ONE_CLICK).get_data(as_text=True)
    assert "You are unsubscribed" in page and not subscribed(member.id, bargaining())
    assert 'id="undo"' in page and "Manage all your choices" in page
    assert 'hreflang="cy"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    undone = client.post(url + "/undo", data={"csrf_token": token})
    assert undone.status_code == 200
    assert "you will get messages about bargaining again" in undone.get_data(as_text=True)
    assert subscribed(member.id, bargaining())
    sources = [r.source for r in db.session.query(ConsentRecord).order_by(ConsentRecord.id)]
    assert sources[-2:] == ["one_click", "unsubscribe_undo"]


def test_opening_the_link_again_shows_the_unsubscribed_state_in_welsh(client, member):
    url = factories.member_links().unsubscribe_url(member.public_id, bargaining())
    client.post(url, **ONE_CLICK)
    page = client.get(url + "?lang=cy").get_data(as_text=True)
    assert '<html lang="cy">' in page and 'id="undo"' in page
    assert not subscribed(member.id, bargaining())  # a GET changes nothing


def test_undo_without_the_pages_token_changes_nothing(client, member):
    url = factories.member_links().unsubscribe_url(member.public_id, bargaining())
    client.post(url, **ONE_CLICK)
    assert client.post(url + "/undo", data={}).status_code == 400
    assert not subscribed(member.id, bargaining())


def test_an_unsubscribe_link_from_five_years_ago_still_works(app, client, member):
    old = issued_ago(app, links.UNSUBSCRIBE_SALT, [member.public_id, bargaining()], 5 * 365)
    response = client.post(f"/u/{old}", **ONE_CLICK)
    assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    assert not subscribed(member.id, bargaining())


def test_an_expired_preference_link_offers_a_fresh_one(app, client, member):
    old = issued_ago(app, links.PREFERENCES_SALT, member.public_id, 100)
    page = client.get(f"/p/{old}")
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "Send me a new link" in html and f'action="/p/{old}/fresh"' in html


def test_a_tampered_link_offers_no_fresh_link(client, member):
    url = factories.member_links().preferences_url(member.public_id)
    html = client.get(url[:-2] + "xx").get_data(as_text=True)
    assert "Send me a new link" not in html
    assert client.post(url[:-2] + "xx/fresh", data={}).status_code in (400, 404)
