"""The preference centre and one-click unsubscribe, as a member's browser and a mail
provider use them: signed links, no account, nothing changed by a GET or a bad link."""

from __future__ import annotations

import re

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member, Topic
from commsvc.services.bulletins import links
from tests import factories


@pytest.fixture
def member(app):
    factories.topics("bargaining", "campaigns")
    factories.topics("ballots", kind="service")
    return factories.member(first_name="Siân")


def topic_id(name):
    return db.session.query(Topic).filter_by(name=name).one().id


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def choices(member_id):
    db.session.expire_all()
    m = db.session.get(Member, member_id)
    topics = {p.topic_id: p.subscribed for p in m.topic_preferences}
    return (m.email_enabled, m.sms_enabled, m.opted_out, m.all_topics, topics)


def test_member_turns_a_topic_and_sms_off_and_the_choice_is_recorded(client, member):
    url = factories.member_links().preferences_url(member.public_id)
    page = client.get(url).get_data(as_text=True)
    assert "Hello Siân" in page and 'for="sms"' in page
    keep = [str(topic_id("bargaining")), str(topic_id("ballots"))]
    saved = client.post(url, data={"csrf_token": csrf(page), "topic": keep, "email": "on"})
    assert saved.status_code == 200 and "Saved." in saved.get_data(as_text=True)
    email, sms, opted_out, _all, topics = choices(member.id)
    assert (email, sms, opted_out) == (True, False, False)
    assert topics[topic_id("campaigns")] is False and topics[topic_id("bargaining")] is True
    record = db.session.query(ConsentRecord).filter_by(source="preference_centre").one()
    assert record.change["sms"] is False and record.wording_version


def test_stop_everything_says_service_messages_still_arrive(client, member):
    url = factories.member_links().preferences_url(member.public_id)
    page = client.get(url).get_data(as_text=True)
    assert "Service messages, such as ballots" in page
    saved = client.post(
        url, data={"csrf_token": csrf(page), "stop_everything": "on", "email": "on", "sms": "on"}
    )
    said = saved.get_data(as_text=True)
    assert "nothing from us except service messages (ballots), by email and text." in said
    assert choices(member.id)[2] is True


def test_page_speaks_welsh_to_a_welsh_browser_and_offers_english(client, member):
    url = factories.member_links().preferences_url(member.public_id)
    page = client.get(url, headers={"Accept-Language": "cy, en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="cy">' in page and "Dewiswch beth rydych chi" in page
    assert 'hreflang="en"' in page and "English</a>" in page
    english = client.get(url + "?lang=en", headers={"Accept-Language": "cy"})
    assert "Choose what you receive" in english.get_data(as_text=True)


def test_welsh_choice_is_kept_with_the_member(client, member):
    url = factories.member_links().preferences_url(member.public_id)
    page = client.get(url + "?lang=cy").get_data(as_text=True)
    client.post(url + "?lang=cy", data={"csrf_token": csrf(page), "email": "on"})
    db.session.expire_all()
    assert db.session.get(Member, member.id).language == "cy"
    again = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Dewiswch beth rydych chi" in again


def test_tampered_link_gets_a_clear_page_and_changes_nothing(client, member):
    url = factories.member_links().preferences_url(member.public_id)
    before = choices(member.id)
    tampered = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
    for response in (client.get(tampered), client.post(tampered, data={"stop_everything": "on"})):
        assert response.status_code in (400, 404)
        assert "This link does not work" in response.get_data(as_text=True)
    assert choices(member.id) == before


def test_expired_link_gets_a_clear_page_and_changes_nothing(app, client, member):
    class Issued100DaysAgo(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - 100 * 24 * 3600

    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=links.PREFERENCES_SALT, signer=Issued100DaysAgo
    ).dumps(member.public_id)
    before = choices(member.id)
    for response in (client.get(f"/p/{old}"), client.post(f"/p/{old}", data={"email": "on"})):
        assert response.status_code == 410
        assert "This link has expired." in response.get_data(as_text=True)
    assert choices(member.id) == before


def test_link_of_an_erased_member_is_not_found(client, member):
    from commsvc.services.members import subject_rights

    url = factories.member_links().preferences_url(member.public_id)
    subject_rights.erase_member(member)
    assert client.get(url).status_code == 404


def test_one_click_post_unsubscribes_with_no_cookie_and_no_redirect(app, member):
    url = factories.member_links().unsubscribe_url(member.public_id, topic_id("bargaining"))
    fresh = app.test_client(use_cookies=False)
    response = fresh.post(
        url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and "Location" not in response.headers
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert choices(member.id)[4] == {topic_id("bargaining"): False}
    assert db.session.query(ConsentRecord).filter_by(source="one_click").count() == 1


def test_get_of_the_unsubscribe_link_shows_the_page_and_changes_nothing(client, member):
    url = factories.member_links().unsubscribe_url(member.public_id, topic_id("bargaining"))
    before = choices(member.id)
    page = client.get(url)
    assert page.status_code == 200
    assert "Unsubscribe from bargaining?" in page.get_data(as_text=True)
    assert choices(member.id) == before
    assert db.session.query(ConsentRecord).filter_by(source="one_click").count() == 0


def test_unsubscribe_post_without_the_one_click_body_changes_nothing(client, member):
    url = factories.member_links().unsubscribe_url(member.public_id, topic_id("bargaining"))
    before = choices(member.id)
    response = client.post(url, data={"something": "else"})
    assert response.status_code == 400
    assert choices(member.id) == before


def test_tampered_unsubscribe_link_changes_nothing(client, member):
    url = factories.member_links().unsubscribe_url(member.public_id, topic_id("bargaining"))
    before = choices(member.id)
    response = client.post(
        url + "x",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and "This link does not work" in response.get_data(
        as_text=True
    )
    assert choices(member.id) == before


def test_member_page_is_readable_on_a_phone_and_labelled(client, member):
    page = client.get(factories.member_links().preferences_url(member.public_id)).get_data(
        as_text=True
    )
    assert 'name="viewport" content="width=device-width' in page
    ids = re.findall(r'<input type="checkbox" id="([^"]+)"', page)
    assert ids and all(f'<label for="{i}">' in page for i in ids)


def test_every_member_page_sentence_has_a_welsh_translation():
    from pathlib import Path

    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = Path(__file__).resolve().parents[2] / "translations" / "cy" / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    wanted = {m.id: m.string for m in source if m.id}
    assert wanted and all(wanted.values())
    assert {m.id: m.string for m in compiled if m.id} == wanted  # the .mo is up to date


def test_a_language_switch_is_remembered_on_the_next_page(client, member):
    url = factories.member_links().preferences_url(member.public_id)
    switched = client.get(url + "?lang=cy", headers={"Accept-Language": "en"})
    assert '<html lang="cy">' in switched.get_data(as_text=True)
    later = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="cy">' in later and "Dewiswch beth rydych chi" in later
    back = client.get(url + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in back
    assert '<html lang="en">' in client.get(url).get_data(as_text=True)


def test_welsh_member_sees_welsh_topic_names_and_can_choose_welsh_messages(client, member):
    topic = db.session.query(Topic).filter_by(name="bargaining").one()
    topic.name_cy = "bargeinio"
    db.session.commit()
    url = factories.member_links().preferences_url(member.public_id)
    page = client.get(url + "?lang=cy").get_data(as_text=True)
    assert "Bargeinio" in page and ">Bargaining<" not in page
    form = {"csrf_token": csrf(page), "email": "on", "language": "cy"}
    client.post(url + "?lang=en", data=form)
    db.session.expire_all()
    assert db.session.get(Member, member.id).language == "cy"
