"""The member's answer page on a phone (390 px), in English and Welsh, and an
organiser's results page with its bars, breakdowns and close button, in Chromium.
Screenshots go to COMMSVC_SCREENSHOTS (a folder) when set, else the test's folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from commsvc.extensions import db
from commsvc.models import Answer, Delivery, Member
from commsvc.services.accounts import auth
from commsvc.services.bulletins import questions
from tests import factories

pytestmark = [pytest.mark.browser]
EMAIL, PASSWORD = "organiser@union.example", "a long enough password"


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("COMMSVC_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _asked(count: int):
    bulletin = factories.sending_bulletin(
        count,
        channels="email",
        question=factories.question(
            text="Do you accept the 2027 pay offer for NHS and council staff?"
        ),
    )
    db.session.execute(
        update(Delivery).where(Delivery.bulletin_id == bulletin.id).values(status="sent")
    )
    db.session.commit()
    members = (
        db.session.query(Member)
        .join(Delivery, Delivery.member_id == Member.id)
        .filter(Delivery.bulletin_id == bulletin.id)
        .order_by(Member.id)
        .all()
    )
    return bulletin, questions.question_for(bulletin.id), members


def _fits(page) -> None:
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


def test_a_member_answers_and_changes_their_answer_on_a_phone_in_welsh_and_english(
    app, chromium, live_server, tmp_path
):
    _bulletin, question, members = _asked(1)
    member = members[0]
    shots = _shots(tmp_path)
    links = factories.member_links()
    page = chromium.new_page(viewport={"width": 390, "height": 844})

    page.goto(live_server + links.answer_url(member.public_id, question.id, 0))
    expect(page.locator("h1")).to_contain_text("pay offer")
    expect(page.locator("#choice-0")).to_be_checked()
    _fits(page)
    page.screenshot(path=str(shots / "answer-390-en.png"), full_page=True)
    assert db.session.query(Answer).count() == 0  # opening the link recorded nothing
    page.click("button[type=submit]")
    expect(page.locator("#saved")).to_contain_text("Accept")

    member.language = "cy"
    db.session.commit()
    page.goto(live_server + links.answer_url(member.public_id, question.id, 1))
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.locator("button[type=submit]")).to_have_text("Anfon fy ateb")
    expect(page.locator("#current")).to_contain_text("Accept")
    expect(page.locator("#choice-1")).to_be_checked()
    _fits(page)
    page.screenshot(path=str(shots / "answer-390-cy.png"), full_page=True)
    page.click("button[type=submit]")
    expect(page.locator("#saved")).to_contain_text("Reject")
    db.session.expire_all()
    assert [(a.member_id, a.choice) for a in db.session.query(Answer)] == [(member.id, 1)]


def test_an_organiser_reads_the_results_and_closes_the_question(
    app, chromium, live_server, tmp_path
):
    bulletin, question, members = _asked(8)
    for n, member in enumerate(members[:7]):
        questions.record_answer(question, member, 0 if n < 5 else 1, "link")
    auth.create_user(EMAIL, PASSWORD, "organiser", [factories.REGION])
    shots = _shots(tmp_path)
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/admin/bulletins/{bulletin.id}")
    page.click("text=Question results")
    expect(page.locator("h1")).to_contain_text("Results")
    expect(page.locator("[data-field=turnout]")).to_have_text("87.5%")
    accept = page.locator("[data-choice=Accept]")
    expect(accept.locator("[data-field=count]")).to_have_text("5")
    width = accept.locator(".bar-fill").evaluate("e => e.getBoundingClientRect().width")
    track = accept.locator(".bar-track").evaluate("e => e.getBoundingClientRect().width")
    assert 0.6 < width / track < 0.8  # 5 of 7 answers
    expect(page.locator("table.breakdown").first).to_contain_text("< 5")
    _fits(page)
    page.screenshot(path=str(shots / "results-1366.png"), full_page=True)
    # Live while open: the last member answers and the page catches up without a reload.
    questions.record_answer(question, members[7], 1, "link")
    expect(page.locator("[data-field=turnout]")).to_have_text("100%", timeout=30_000)
    expect(page.locator("[data-choice=Reject] [data-field=count]")).to_have_text("3")
    page.set_viewport_size({"width": 390, "height": 844})
    _fits(page)
    page.screenshot(path=str(shots / "results-390.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.click("text=Close the question now")  # asks first, with the turnout so far
    expect(page.locator("[data-field=consequence]")).to_contain_text(
        "So far 8 of 8 members have answered."
    )
    db.session.expire_all()
    assert questions.question_for(bulletin.id).closed_early_at is None
    page.screenshot(path=str(shots / "close-question-1366.png"), full_page=True)
    page.click("button:has-text('Close the question now')")
    expect(page.locator(".flash")).to_contain_text("later answers are not counted")
    expect(page.locator("[data-field=state]")).to_have_text("Closed")
    db.session.expire_all()
    assert questions.question_for(bulletin.id).closed_early_at is not None
