"""A member opens the link in a real email, turns a topic and SMS off in Chromium,
and the next bulletin on that topic reaches them on no channel while others get it."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Delivery, Member
from tests import factories
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def send(client, headers, partnership_id, title):
    body = factories.bulletin_body(partnership_id, title=title, topic="bargaining")
    created = client.post("/api/v1/bulletins", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    bulletin_id = created.get_json()["id"]
    assert client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers).status_code == 202
    wait_until_sent(client, headers, bulletin_id)
    return bulletin_id


def test_member_turns_topic_and_sms_off_in_a_browser_and_the_next_bulletin_skips_them(
    app, client, chromium, live_server, linked_worker, email_sink, sms_sink, tmp_path
):
    partnership = factories.partnership()
    factories.topics("bargaining", "campaigns")
    rows = [
        factories.member_row(
            first_name=f"Person{n}",
            email=f"person{n}@example.org",
            mobile=f"07800 {400000 + n:06d}",
            channels="email;sms",
        )
        for n in range(6)
    ]
    assert factories.import_rows(rows).ok
    chooser = db.session.query(Member).filter_by(email="person0@example.org").one()
    headers = factories.api_key()

    send(client, headers, partnership.id, "First bulletin")
    email = next(m for m in email_sink.parsed() if m["To"] == "person0@example.org")
    text = email.get_body(("plain",)).get_content()
    link = text.split("Choose what you receive: ")[1].split()[0]
    assert link.startswith(live_server + "/p/")

    page = chromium.new_page(viewport={"width": 375, "height": 800})
    page.goto(link)
    assert page.get_by_role("heading", name="Choose what you receive").is_visible()
    page.get_by_label("Bargaining").uncheck()  # by its label, as a screen reader names it
    page.focus("#sms")
    page.keyboard.press("Space")  # and by keyboard alone
    assert not page.is_checked("#sms") and page.is_checked("#email")
    page.screenshot(path=str(tmp_path / "preferences-375.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_role("status").wait_for()
    assert "Saved." in page.get_by_role("status").inner_text()
    page.screenshot(path=str(tmp_path / "preferences-375-saved.png"), full_page=True)
    page.close()

    emails_before, texts_before = len(email_sink.parsed()), len(sms_sink.messages)
    second = send(client, headers, partnership.id, "Second bulletin")
    new_emails = [str(m["To"]) for m in email_sink.parsed()[emails_before:]]
    new_texts = [t["to"] for t in sms_sink.messages[texts_before:]]
    assert "person0@example.org" not in new_emails and chooser.mobile not in new_texts
    assert sorted(new_emails) == sorted(f"person{n}@example.org" for n in range(1, 6))
    assert len(new_texts) == 5
    db.session.expire_all()
    statuses = {
        d.channel: d.status
        for d in db.session.query(Delivery).filter_by(bulletin_id=second, member_id=chooser.id)
    }
    assert statuses == {"email": "skipped", "sms": "skipped"}
    assert (tmp_path / "preferences-375.png").stat().st_size > 0
