"""The compose page in a real browser: the SMS counter updates while the organiser types."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from commsvc.services.accounts import auth
from tests import factories

pytestmark = pytest.mark.browser


def test_sms_counter_updates_live_while_typing(app, chromium, live_server):
    partnership = factories.partnership()
    factories.topics()
    auth.create_user(
        "organiser@union.example", "a long enough password", "organiser", factories.home_regions()
    )
    page = chromium.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", "organiser@union.example")
        page.fill("input[name=password]", "a long enough password")
        page.click("button[type=submit]")
        page.goto(f"{live_server}/admin/partnerships/{partnership.id}/compose")
        counter = page.locator("#sms-count")

        page.fill("#sms_body", "")
        page.type("#sms_body", "Hi {{ member.first_name }}, vote now")
        expect(counter).to_contain_text("GSM-7", timeout=10000)
        assert "1 segment" in counter.text_content()

        page.type("#sms_body", " — dŵr")
        expect(counter).to_contain_text("UCS-2", timeout=10000)
        page.fill("#sms_body", "ŵ" * 300)
        # 300 characters and the member's opt-out link (nobody can reply to UNION).
        expect(counter).to_contain_text("6 segments", timeout=10000)
        assert "characters with the opt-out line" in counter.text_content()
        assert "billed 6 times" in counter.text_content()

        page.fill("#sms_body", "{{ nobody }}")
        expect(counter).to_contain_text("no variable", timeout=10000)
    finally:
        page.close()


def test_preview_page_shows_the_members_email_in_its_frame(app, chromium, live_server):
    partnership = factories.partnership()
    factories.import_rows([factories.member_row(first_name="Hana", service_group="health")])
    bulletin = factories.bulletin(partnership.id)
    auth.create_user(
        "organiser@union.example", "a long enough password", "organiser", factories.home_regions()
    )
    page = chromium.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", "organiser@union.example")
        page.fill("input[name=password]", "a long enough password")
        page.click("button[type=submit]")
        page.goto(f"{live_server}/admin/bulletins/{bulletin.id}/preview")
        assert "Pay offer: have your say, Hana" in page.locator(".inbox .subject").text_content()
        assert "Opt out: http" in page.locator(".phone .bubble").text_content()
        frame = page.frame_locator("iframe.email-frame").first
        frame.locator("text=Dear Hana").wait_for(timeout=10000)
        assert "Choose what you receive" in frame.locator("body").text_content()
    finally:
        page.close()
