"""The organiser's hazards, walked in Chromium on the production server (gunicorn) with a
real worker: one click on send sends nothing; the confirmation states the counts per
channel; a large audience needs the number typed; a sent bulletin offers no pause or
cancel; the deliveries CSV downloads; a past schedule is refused by its field; a service
topic asks for a reason; errors sit by their fields, in plain words."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from commsvc.extensions import db
from commsvc.models import Bulletin
from commsvc.services.accounts import auth
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
EMAIL, PASSWORD = "organiser@union.example", "a long enough password"
SEND_TIMEOUT_MS = 120_000


def shots_dir(tmp_path: Path) -> Path:
    """Screenshots go to the test's folder, or to COMMSVC_SCREENSHOTS to look at later."""
    folder = Path(os.environ.get("COMMSVC_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_in(page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin")


def audience(n: int = 12) -> object:
    """n members: two in three have an email, two in three a mobile."""
    partnership = factories.partnership()
    factories.topics()
    factories.topics("ballots", kind="service")
    rows = [
        factories.member_row(channels="email;sms")
        if i % 3 == 0
        else factories.member_row(channels="email", mobile="")
        if i % 3 == 1
        else factories.member_row(channels="sms", email="")
        for i in range(n)
    ]
    assert factories.import_rows(rows).ok
    auth.create_user(EMAIL, PASSWORD, "organiser", [factories.REGION])
    return partnership


def compose(page, url: str, partnership_id: int, **fields: str) -> None:
    page.goto(f"{url}/admin/partnerships/{partnership_id}/compose")
    values = {
        "#title": "Pay offer consultation",
        "#subject": "Pay offer: have your say, {{ member.first_name }}",
        "#email_body": "Dear {{ member.first_name }},\n\nThe **pay offer** is out.",
        "#sms_body": "Hi {{ member.first_name }}, the pay offer is out.",
    } | fields
    for selector, value in values.items():
        page.fill(selector, value)


def test_one_click_sends_nothing_the_confirmation_counts_and_a_sent_bulletin_is_final(
    app, chromium, gunicorn_server, gunicorn_worker, email_sink, sms_sink, tmp_path
):
    url = gunicorn_server
    partnership = audience(12)
    partnership.confirm_above = 5  # a "large" audience here: the number must be typed
    db.session.commit()
    shots = shots_dir(tmp_path)
    page = chromium.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    log_in(page, url)

    compose(page, url, partnership.id)
    page.select_option("#topic", "bargaining")
    page.click("#compose button[type=submit]")
    page.wait_for_url("**/preview")
    expect(page.locator("h1")).to_have_text("Pay offer consultation")
    page.screenshot(path=str(shots / "check-1366.png"), full_page=True)

    page.click("button:has-text('Continue to send')")  # the one click
    page.wait_for_url("**/confirm?**")
    heading = page.locator("h1")
    expect(heading).to_have_text(
        f"Send 8 emails and 8 text messages to 12 members of {partnership.name} now?"
    )
    assert page.locator("[data-count=email]").text_content() == "8"
    assert page.locator("[data-count=sms]").text_content() == "8"
    page.screenshot(path=str(shots / "confirm-1366.png"), full_page=True)
    db.session.expire_all()
    assert db.session.query(Bulletin).one().status == "draft"
    assert not email_sink.messages and not sms_sink.messages, "one click sent something"

    # Confirming without typing the number is refused, by the field, and sends nothing.
    page.click("button.confirm")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#typed_count-error")).to_contain_text("Type the number of members (12)")
    assert page.locator("#typed_count").get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(shots / "confirm-error-1366.png"), full_page=True)
    db.session.expire_all()
    assert db.session.query(Bulletin).one().status == "draft"

    page.fill("#typed_count", "12")
    page.click("button.confirm")
    page.wait_for_url("**/admin/bulletins/*")
    expect(page.locator("[data-field=status]")).to_have_text("sent", timeout=SEND_TIMEOUT_MS)
    assert len(email_sink.messages) == 8 and len(sms_sink.messages) == 8
    page.reload()
    # A sent bulletin is final: no pause, no cancel, no way back to sending.
    assert page.locator("button:has-text('Pause')").count() == 0
    assert page.locator("button:has-text('Cancel')").count() == 0
    assert page.locator("text=Continue to send").count() == 0
    expect(page.locator(".headline")).to_contain_text("Audience 12 members · 16 messages sent")
    page.screenshot(path=str(shots / "bulletin-sent-1366.png"), full_page=True)

    # The CSV comes through gunicorn (a streamed response) with every delivery.
    with page.expect_download() as download:
        page.click("a:has-text('Download deliveries (CSV)')")
    saved = tmp_path / "deliveries.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert len(rows) == 16 and {r["status"] for r in rows} <= {"sent", "delivered"}


def test_a_schedule_in_the_past_is_refused_by_its_field_and_nothing_is_sent(
    app, chromium, gunicorn_server, tmp_path
):
    url = gunicorn_server
    partnership = audience(3)
    bulletin = factories.bulletin(partnership.id)
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, url)
    page.goto(f"{url}/admin/bulletins/{bulletin.id}/preview")
    page.check("#when-later")
    page.fill("#send_date", "2020-06-01")
    page.fill("#send_time", "09:00")
    page.click("button:has-text('Continue to send')")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#send_date-error")).to_contain_text(
        "9:00am (BST) on Monday 1 June 2020 has passed"
    )
    page.click(".error-summary a")
    expect(page.locator("#send_date")).to_be_focused()
    page.screenshot(path=str(shots_dir(tmp_path) / "past-schedule-1366.png"), full_page=True)
    db.session.expire_all()
    assert db.session.get(Bulletin, bulletin.id).status == "draft"


def test_a_service_topic_asks_for_a_reason_and_errors_sit_by_their_fields(
    app, chromium, gunicorn_server, tmp_path
):
    url = gunicorn_server
    partnership = audience(3)
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, url)
    compose(page, url, partnership.id, **{"#title": "", "#sms_body": ""})
    assert page.locator("#topic").input_value() == "", "the topic has no default"
    assert page.locator("#service_reason").is_hidden()
    page.select_option("#topic", "ballots")
    expect(page.locator("#service_reason")).to_be_visible()
    expect(page.locator("#topic-hint")).to_contain_text("stopped campaign messages")
    page.click("#compose button[type=submit]")

    expect(page.locator(".error-summary")).to_be_focused()
    summary = page.locator(".error-summary").text_content()
    assert "Enter a title" in summary and "Say why this bulletin is a service message" in summary
    assert "Enter the text message" in summary
    assert "sms_body" not in page.content().split("<form")[0], "no code names in the errors"
    for field in ("title", "service_reason", "sms_body"):
        assert page.locator(f"#{field}").get_attribute("aria-invalid") == "true", field
        assert page.locator(f"#{field}-error").is_visible(), field
    page.screenshot(path=str(shots_dir(tmp_path) / "compose-errors-1366.png"), full_page=True)
    assert db.session.query(Bulletin).count() == 0

    page.fill("#title", "Strike ballot")
    page.fill("#service_reason", "The statutory ballot notice must reach every member.")
    page.fill("#sms_body", "Your ballot paper is on its way.")
    page.click("#compose button[type=submit]")
    page.wait_for_url("**/preview")
    history = page.locator("table.history").text_content()
    assert "The statutory ballot notice must reach every member." in history


def test_the_sms_counter_works_past_every_limit_and_nothing_is_cut(app, chromium, gunicorn_server):
    url = gunicorn_server
    partnership = audience(1)
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    log_in(page, url)
    page.goto(f"{url}/admin/partnerships/{partnership.id}/compose")
    long_text = "x" * 2000
    page.fill("#sms_body", long_text)
    counter = page.locator("#sms-count")
    expect(counter).to_contain_text("too long to save", timeout=10000)
    assert "undefined" not in counter.text_content()
    assert "remove 400" in counter.text_content()
    assert page.locator("#sms_body").input_value() == long_text, "a paste is never cut"
