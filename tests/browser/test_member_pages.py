"""A member's pages on a 390 px phone in Chromium: the preference page, the unsubscribed
page with undo, an address correction and the web copy of a bulletin; axe-core finds
nothing serious or critical on any of them, nor on the rendered email."""

from __future__ import annotations

import re
import time

import pytest

from commsvc.extensions import db
from commsvc.models import Member
from tests import factories
from tests.browser.axe import serious_problems
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
PHONE = {"width": 390, "height": 844}
ARRIVAL_TIMEOUT_SECONDS = 60


def phone_page(chromium):
    # bypass_csp lets axe's script run; the pages themselves are as members get them.
    context = chromium.new_context(viewport=PHONE, bypass_csp=True)
    return context.new_page()


def fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def wait_for(found):
    deadline = time.monotonic() + ARRIVAL_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("nothing arrived in time")


def test_member_reads_a_bulletin_on_the_web_unsubscribes_undoes_and_fixes_their_address(
    app, client, chromium, live_server, linked_worker, email_sink, sms_sink, tmp_path
):
    partnership = factories.partnership()
    factories.topics("bargaining")
    factories.topics("ballots", kind="service")
    factories.member(first_name="Rhian", email="rhian@example.org")
    headers = factories.api_key()
    body = factories.bulletin_body(
        partnership.id, email_body="# The offer\n\nDear {{ member.first_name }}, read on."
    )
    created = client.post("/api/v1/bulletins", json=body, headers=headers).get_json()
    client.post(f"/api/v1/bulletins/{created['id']}/send", headers=headers)
    wait_until_sent(client, headers, created["id"])
    (email,) = email_sink.parsed()
    text = email.get_body(("plain",)).get_content()
    web_copy = re.search(r"Read it in your browser: (\S+)", text).group(1)
    unsubscribe = re.search(r"Unsubscribe: (\S+)", text).group(1)
    preferences = re.search(r"Choose what you receive: (\S+)", text).group(1)

    page = phone_page(chromium)
    # The web copy: the member's own email, as a page.
    page.goto(web_copy)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Pay offer")
    assert "Dear Rhian" in page.inner_text("main")
    assert fits_the_phone(page)
    page.screenshot(path=str(tmp_path / "web-copy-390.png"), full_page=True)
    assert serious_problems(page) == []

    # The preference page says what will arrive, and passes axe.
    page.goto(preferences)
    outlook = page.locator("#outlook").inner_text()
    assert "Bargaining: by email and text" in outlook and "Ballots: by email and text" in outlook
    assert page.get_by_role("heading", name="Always sent").is_visible()
    assert fits_the_phone(page)
    page.screenshot(path=str(tmp_path / "preferences-390.png"), full_page=True)
    assert serious_problems(page) == []
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(tmp_path / "preferences-1366.png"), full_page=True)
    page.goto(web_copy)
    page.screenshot(path=str(tmp_path / "web-copy-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.goto(preferences)

    # Unsubscribe, then undo in one tap.
    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert page.get_by_role("link", name="Manage all your choices").is_visible()
    assert page.get_by_role("link", name="Cymraeg").is_visible()
    assert fits_the_phone(page)
    page.screenshot(path=str(tmp_path / "unsubscribed-390.png"), full_page=True)
    assert serious_problems(page) == []
    page.get_by_role("button", name=re.compile("^Undo")).click()
    page.locator("#undone").wait_for()
    assert "again" in page.locator("#undone").inner_text()
    assert serious_problems(page) == []

    # Correct the email address; it changes once the new address confirms it.
    page.goto(preferences)
    page.get_by_text("Correct your email address or mobile number").click()
    page.get_by_label("New email address").fill("rhian.new@example.org")
    page.get_by_role("button", name="Send a link to confirm it").click()
    page.locator("#address-sent").wait_for()
    assert "r•••@example.org" in page.locator("#address-sent").inner_text()
    assert serious_problems(page) == []
    confirm = wait_for(
        lambda: [m for m in email_sink.parsed() if str(m["To"]) == "rhian.new@example.org"]
    )[0]
    link = re.search(r"(http\S+/c/\S+)", confirm.get_body(("plain",)).get_content()).group(1)
    page.goto(link)
    assert serious_problems(page) == []
    page.get_by_role("button", name="Yes, use it").click()
    page.locator("#confirmed").wait_for()
    page.screenshot(path=str(tmp_path / "address-confirmed-390.png"), full_page=True)
    db.session.expire_all()
    assert db.session.query(Member).one().email == "rhian.new@example.org"
    page.context.close()


def test_the_welsh_pages_and_the_archive_pass_axe(
    app, client, chromium, live_server, linked_worker, email_sink, sms_sink, tmp_path
):
    partnership = factories.partnership()
    factories.topics("bargaining")
    member = factories.member(first_name="Siân", email="sian@example.org")
    member.language = "cy"
    db.session.commit()
    headers = factories.api_key()
    body = factories.bulletin_body(
        partnership.id,
        public=True,
        subject_cy="Cynnig cyflog, {{ member.first_name }}",
        email_body_cy="Annwyl {{ member.first_name }}, mae'r cynnig allan.",
    )
    created = client.post("/api/v1/bulletins", json=body, headers=headers).get_json()
    client.post(f"/api/v1/bulletins/{created['id']}/send", headers=headers)
    wait_until_sent(client, headers, created["id"])
    (email,) = email_sink.parsed()
    text = email.get_body(("plain",)).get_content()
    page = phone_page(chromium)
    page.goto(re.search(r"Darllenwch ef yn eich porwr: (\S+)", text).group(1))
    assert page.evaluate("document.documentElement.lang") == "cy"
    assert serious_problems(page) == []
    page.goto(re.search(r"Dewiswch beth rydych chi'n ei gael: (\S+)", text).group(1))
    assert page.evaluate("document.documentElement.lang") == "cy"
    page.screenshot(path=str(tmp_path / "preferences-cy-390.png"), full_page=True)
    assert serious_problems(page) == []
    page.goto(f"{live_server}/archive/{partnership.id}")
    assert serious_problems(page) == []
    page.get_by_role("link", name="Pay offer: have your say, colleague").click()
    assert "Dear colleague" in page.inner_text("main")
    assert serious_problems(page) == []
    page.context.close()
