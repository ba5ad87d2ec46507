"""An organiser's walk in a real browser: log in, compose a bulletin for a partnership,
preview it, send it with a real worker and the sinks, watch the progress bar reach 100%
without reloading, and open the report. Every page is checked at phone (375 px) and
laptop (1280 px) widths, with screenshots saved in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from commsvc.services.accounts import auth
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
EMAIL, PASSWORD = "organiser@union.example", "a long enough password"
WIDTHS = (375, 1280)
SEND_TIMEOUT_MS = 120_000


def check_widths(page, shots: Path, name: str) -> None:
    """Readable at each width: nothing wider than the window, and a screenshot to look at."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px window"
        assert page.locator("h1").first.is_visible(), f"{name} has no visible heading"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_organiser_composes_previews_sends_and_reads_the_report(
    app, chromium, live_server, worker, email_sink, sms_sink, tmp_path
):
    partnership = factories.partnership()
    factories.topics()
    rows = [
        factories.member_row(channels="email;sms")
        if n % 3 == 0
        else factories.member_row(channels="email", mobile="")
        if n % 3 == 1
        else factories.member_row(channels="sms", email="")
        for n in range(30)
    ]
    factories.import_rows(rows)
    email_member, sms_member = rows[1]["membership_number"], rows[2]["membership_number"]
    auth.create_user(EMAIL, PASSWORD, "organiser", [factories.REGION])
    shots = tmp_path / "screenshots"
    shots.mkdir()

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server}/login")
    check_widths(page, shots, "01-login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin")
    assert partnership.name in page.content()
    check_widths(page, shots, "02-dashboard")

    page.click(f"a[href='/admin/partnerships/{partnership.id}/compose']")
    check_widths(page, shots, "03-compose")
    page.fill("#title", "Pay offer consultation")
    page.select_option("#topic", "bargaining")
    page.fill("#subject", "Pay offer: have your say, {{ member.first_name }}")
    page.fill("#email_body", "Dear {{ member.first_name }},\n\nThe **pay offer** is out.")
    page.fill("#sms_body", "Hi {{ member.first_name }}, the pay offer is out.")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/admin/bulletins/*/preview")
    bulletin_url = page.url
    check_widths(page, shots, "04-bulletin-draft")

    page.fill("#member", email_member)
    page.click("button:has-text('Show')")
    expect(page.locator(".preview-member h3")).to_contain_text(email_member)
    # The email frame loads: the CSP lets the preview page, and only it, frame the email.
    expect(page.frame_locator("iframe.email-frame").locator("body")).to_contain_text("pay offer")
    check_widths(page, shots, "05-preview-email-member")
    page.fill("#member", sms_member)
    page.click("button:has-text('Show')")
    expect(page.locator(".preview-member h3")).to_contain_text(sms_member)
    expect(page.locator(".bubble")).to_contain_text("the pay offer is out")
    check_widths(page, shots, "06-preview-sms-member")
    page.click("button:has-text('Continue to send')")
    page.wait_for_url("**/confirm?**")
    check_widths(page, shots, "06b-confirm")
    page.click("button.confirm")
    page.wait_for_url(bulletin_url.replace("/preview", ""))
    # Locator waits, not wait_for_function: the page's CSP rightly forbids eval.
    expect(page.locator("[data-field=status]")).to_have_text("sent", timeout=SEND_TIMEOUT_MS)
    expect(page.locator("[data-field=percent]")).to_have_text("100% done")
    assert page.locator("progress[data-field=bar]").evaluate("bar => bar.value") == 100
    check_widths(page, shots, "07-bulletin-sent")
    assert len(email_sink.messages) == 20 and len(sms_sink.messages) == 20

    page.click("a:has-text('Report')")
    page.wait_for_url("**/report")
    assert page.locator("svg polyline").count() == 2
    check_widths(page, shots, "08-report")
    assert not problems, problems
    assert len(list(shots.glob("*.png"))) == 18
