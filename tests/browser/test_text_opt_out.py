"""The page a text's "Opt out: <link>" opens, in Chromium as production serves it, in
English and in Welsh, on a 390 px phone and a 1280 px desktop: the member stops texts
with one button and can undo; it fits the phone and axe-core finds nothing serious.
Screenshots go to COMMSVC_SCREENSHOTS when set."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from commsvc.extensions import db
from commsvc.models import Member
from tests import factories
from tests.browser.axe import serious_problems
from tests.browser.test_safe_send import shots_dir

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _fits(page) -> None:
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


def _texts_on(member_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(Member, member_id).sms_enabled


@pytest.mark.parametrize(
    ("language", "stop", "undo"),
    [
        ("en", "Stop texts", "Undo: turn texts back on"),
        ("cy", "Peidio â chael negeseuon testun", "Dadwneud: troi negeseuon testun yn ôl ymlaen"),
    ],
)
def test_a_member_stops_texts_from_the_link_in_a_text_on_a_phone_and_a_desktop(
    app, chromium, gunicorn_server, tmp_path, language, stop, undo
):
    shots = shots_dir(tmp_path)
    member = factories.member(email="", mobile="07911 123456", channels="sms")
    member.language = language
    db.session.commit()
    # bypass_csp lets axe's script run; the page itself is as members get it.
    page = chromium.new_context(viewport=PHONE, bypass_csp=True).new_page()
    page.goto(gunicorn_server + factories.member_links().text_opt_out_url(member.public_id))
    assert page.evaluate("document.documentElement.lang") == language
    _fits(page)
    assert serious_problems(page) == []
    page.screenshot(path=str(shots / f"text-opt-out-{language}-390.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(shots / f"text-opt-out-{language}-1280.png"), full_page=True)

    page.get_by_role("button", name=stop).click()
    expect(page.get_by_role("button", name=undo)).to_be_visible()
    assert not _texts_on(member.id)
    assert serious_problems(page) == []
    page.screenshot(path=str(shots / f"text-opt-out-{language}-off-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    _fits(page)
    page.screenshot(path=str(shots / f"text-opt-out-{language}-off-390.png"), full_page=True)

    page.get_by_role("button", name=undo).click()
    expect(page.locator("#changed")).to_be_visible()
    assert _texts_on(member.id)
    page.screenshot(path=str(shots / f"text-opt-out-{language}-undone-390.png"), full_page=True)
