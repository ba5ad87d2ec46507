"""In Chromium, on the production server: a schedule typed in UK time is shown in UK
time, and cancelling it asks first (a page with the count and the time, then one
button); the compose page takes a question's closing time in UK time; members' pages and
the organiser's preview carry the region's brand (the question's box included).
Screenshots at 1366 and 390 px go to COMMSVC_SCREENSHOTS when set."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from commsvc.extensions import db
from commsvc.models import Branding, Bulletin, Delivery, Member
from commsvc.services.accounts import auth
from commsvc.services.bulletins import questions
from tests import factories
from tests.browser.axe import serious_problems
from tests.browser.test_safe_send import EMAIL, PASSWORD, audience, compose, log_in, shots_dir

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _fits(page) -> None:
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


def _status(bulletin_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Bulletin, bulletin_id).status


def test_a_scheduled_send_is_shown_in_uk_time_and_cancelling_it_asks_first(
    app, chromium, gunicorn_server, tmp_path
):
    url = gunicorn_server
    partnership = audience(6)
    bulletin = factories.bulletin(partnership.id, title="Pay offer ballot reminder")
    shots = shots_dir(tmp_path)
    page = chromium.new_page(viewport=DESKTOP)
    log_in(page, url)
    page.goto(f"{url}/admin/bulletins/{bulletin.id}/preview")
    page.check("#when-later")
    page.fill("#send_date", "2099-12-01")
    page.fill("#send_time", "09:00")
    page.click("button:has-text('Continue to send')")
    page.wait_for_url("**/confirm?**")
    page.click("button.confirm")
    page.wait_for_url(f"**/admin/bulletins/{bulletin.id}")
    expect(page.locator(".live")).to_contain_text(
        "scheduled for 9:00am (GMT) on Tuesday 1 December 2099"
    )
    db.session.expire_all()
    assert db.session.get(Bulletin, bulletin.id).scheduled_for == datetime(2099, 12, 1, 9, 0)
    page.screenshot(path=str(shots / "bulletin-scheduled-1366.png"), full_page=True)

    page.click("a:has-text('Cancel the scheduled send')")  # the one click
    page.wait_for_url("**/unschedule/confirm")
    assert _status(bulletin.id) == "scheduled"
    expect(page.locator("h1")).to_have_text("Cancel the scheduled send?")
    said = page.locator("[data-field=consequence]")
    expect(said).to_contain_text(
        "The bulletin \u2018Pay offer ballot reminder\u2019 will not be sent to 6 members "
        "(4 emails and 4 text messages) at "
        "9:00am (GMT) on Tuesday 1 December 2099."
    )
    expect(said).to_contain_text("It goes back to draft; you can change it and schedule it again.")
    assert serious_problems(page) == []
    page.screenshot(path=str(shots / "cancel-schedule-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    _fits(page)
    page.screenshot(path=str(shots / "cancel-schedule-390.png"), full_page=True)

    page.click("button:has-text('Cancel the scheduled send')")
    page.wait_for_url(f"**/admin/bulletins/{bulletin.id}")
    expect(page.locator(".flash")).to_contain_text("is a draft again")
    assert _status(bulletin.id) == "draft"


def test_a_questions_closing_time_is_typed_and_read_in_uk_time(
    app, chromium, gunicorn_server, tmp_path
):
    url = gunicorn_server
    partnership = audience(3)
    page = chromium.new_page(viewport=DESKTOP)
    log_in(page, url)
    compose(page, url, partnership.id)
    page.select_option("#topic", "bargaining")
    expect(page.locator("label[for=question_closes_at]")).to_have_text("Closes at (UK time)")
    page.fill("#question_text", "Do you accept the pay offer?")
    page.fill("#question_choices", "Accept\nReject")
    page.fill("#question_closes_at", "2099-07-01T17:00")
    page.click("#compose button[type=submit]")
    page.wait_for_url("**/preview")
    bulletin = db.session.query(Bulletin).one()
    question = questions.question_for(bulletin.id)
    assert question.closes_at == datetime(2099, 7, 1, 16, 0)  # 5pm BST is 4pm UTC
    frame = page.frame_locator("iframe.email-frame").first
    expect(frame.locator("body")).to_contain_text("until 5:00pm (BST) on Wednesday 1 July 2099")


def test_members_pages_and_the_preview_carry_the_regions_brand(
    app, chromium, gunicorn_server, tmp_path
):
    url = gunicorn_server
    shots = shots_dir(tmp_path)
    bulletin = factories.sending_bulletin(
        1, channels="email", question=factories.question(closes_at="2099-12-01T17:00:00Z")
    )
    region_id = bulletin.partnership.region_id
    db.session.add(
        Branding(
            region_id=region_id,
            union_name="North West UNISON",
            sender_name="North West UNISON, Health",
            footer_address="Union House, 1 Main St <Manchester> M1 1AA",
            colour="#00533f",
        )
    )
    db.session.commit()
    member = (
        db.session.query(Member)
        .join(Delivery, Delivery.member_id == Member.id)
        .filter(Delivery.bulletin_id == bulletin.id)
        .one()
    )
    question = questions.question_for(bulletin.id)
    links = factories.member_links()
    page = chromium.new_page(viewport=PHONE)
    page.goto(url + links.answer_url(member.public_id, question.id, 0))
    expect(page.locator("[data-field=brand-name]")).to_have_text("North West UNISON")
    expect(page.locator("[data-field=brand-footer]")).to_have_text(
        "Union House, 1 Main St <Manchester> M1 1AA"
    )
    expect(page.locator(".hint")).to_contain_text("5:00pm (GMT) on Tuesday 1 December 2099")
    colour = page.evaluate("getComputedStyle(document.querySelector('.masthead')).backgroundColor")
    assert colour == "rgb(0, 83, 63)"
    _fits(page)
    assert serious_problems(page) == []
    page.screenshot(path=str(shots / "answer-branded-390.png"), full_page=True)
    page.goto(url + links.preferences_url(member.public_id))
    expect(page.locator("[data-field=brand-footer]")).to_contain_text("Union House")
    _fits(page)
    page.screenshot(path=str(shots / "preferences-branded-390.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / "preferences-branded-1366.png"), full_page=True)

    # The organiser's preview shows the same From name and footer as the inbox will.
    auth.create_user(EMAIL, PASSWORD, "organiser", [factories.REGION])
    log_in(page, url)
    page.goto(f"{url}/admin/bulletins/{bulletin.id}/preview")
    expect(page.locator("[data-field=email-from]").first).to_have_text(
        f"From North West UNISON, Health <{app.config['COMMSVC_EMAIL_FROM']}>"
    )
    email = page.frame_locator("iframe.email-frame").first
    expect(email.locator("footer")).to_contain_text("Union House, 1 Main St <Manchester> M1 1AA")
    expect(email.locator("header")).to_have_text("North West UNISON")
    question_box = email.locator("div", has_text="Do you accept the pay offer?").last
    expect(question_box).to_have_css("border-top-color", "rgb(0, 83, 63)")
    expect(question_box.get_by_role("link", name="Accept")).to_have_css(
        "background-color", "rgb(0, 83, 63)"
    )
    page.screenshot(path=str(shots / "preview-branded-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    expect(email.locator("header")).to_have_text("North West UNISON")
    _fits(page)
    # Full-page capture leaves the sandboxed (out-of-process) email frame blank when it
    # starts below the first screen; a phone scrolled to it shows it drawn, as the
    # inbox's own screenshot (scrolled into view) does.
    page.screenshot(path=str(shots / "preview-branded-390.png"), full_page=True)
    page.locator(".inbox").first.screenshot(path=str(shots / "preview-inbox-390.png"))
