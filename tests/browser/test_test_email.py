"""An organiser's test email, walked as they would: sent from the check page on the
production server (gunicorn) by a real worker, then every link in it opened in Chromium
and its one-click unsubscribe pressed. Each lands on "This is a test copy" and no member's
choices change: a test copy carries a sample member's words, never their links."""

from __future__ import annotations

import re
import time
import urllib.request
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member
from tests.browser.test_safe_send import audience, compose, log_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
WAIT_SECONDS = 60
_LINK = re.compile(r'href="(http[^"]+)"')


def _choices() -> list[tuple]:
    """Every member's choices and consent history: what a stray link could change."""
    db.session.rollback()
    members = db.session.scalars(select(Member).order_by(Member.id)).all()
    consents = db.session.scalar(select(db.func.count()).select_from(ConsentRecord))
    return [(m.id, m.opted_out, m.email_enabled, m.sms_enabled, m.all_topics) for m in members] + [
        ("consent records", consents)
    ]


def test_the_test_emails_links_change_no_member(
    app, chromium, gunicorn_server, gunicorn_worker, email_sink, tmp_path
):
    url = gunicorn_server
    partnership = audience(6)
    before = _choices()
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, url)
    compose(page, url, partnership.id)
    page.select_option("#topic", "bargaining")
    page.click("#compose button[type=submit]")
    page.wait_for_url("**/preview")
    page.fill("#test-email", "organiser@union.example")
    page.click("button:has-text('Send me a test')")

    deadline = time.monotonic() + WAIT_SECONDS
    while not email_sink.messages and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(email_sink.messages) == 1, "the test email did not arrive"
    _sender, recipients, data = email_sink.messages[0]
    assert recipients == ["organiser@union.example"]
    email = message_from_bytes(data, policy=policy.default)
    html = email.get_body(preferencelist=("html",)).get_content()
    links = [link for link in _LINK.findall(html) if link.startswith(url)]
    unsubscribe = re.search(r"<(http[^>]+)>", email["List-Unsubscribe"]).group(1)
    assert links, "the test email has no links back to us"

    for link in [*links, unsubscribe]:
        page.goto(link)
        expect(page.locator("h1")).to_have_text("This is a test copy")
        assert "nothing has been changed" in page.content()
    one_click = urllib.request.Request(
        unsubscribe, data=b"List-Unsubscribe=One-Click", method="POST"
    )
    with urllib.request.urlopen(one_click, timeout=10) as answer:  # noqa: S310 (loopback)
        assert answer.status == 200
    page.screenshot(path=str(tmp_path / "test-copy.png"))
    assert _choices() == before, "a link in a test copy changed a member's choices"
