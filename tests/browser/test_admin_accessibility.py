"""Every admin page, on the production server: axe-core (vendored, see vendor/axe-core)
finds no serious or critical accessibility violation, and at a phone's 390 px nothing is
wider than the window (tables become lists). Screenshots at 1366 and 390 px are kept in
the test's folder, or COMMSVC_SCREENSHOTS, to look at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commsvc.extensions import db
from commsvc.services.accounts import auth
from commsvc.services.bulletins import lifecycle
from tests import factories
from tests.browser.test_safe_send import shots_dir

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ADMIN, PASSWORD = "admin@union.example", "a long enough password"
WIDTHS = (1366, 390)


def axe_violations(page) -> list[dict]:
    """Serious and critical violations of WCAG 2.x A/AA and axe's best practices."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa',"
        " 'best-practice']})).violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_admin_pages_pass_axe_and_fit_a_phone(app, chromium, gunicorn_server, tmp_path):
    url = gunicorn_server
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(channels="email;sms") for _ in range(4)])
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    draft = factories.bulletin(partnership.id)
    scheduled = factories.bulletin(partnership.id, title="A scheduled bulletin")
    lifecycle.send(factories.organiser(), scheduled, _tomorrow())
    db.session.commit()
    pages = {
        "dashboard": "/admin",
        "partnerships": "/admin/partnerships",
        "compose": f"/admin/partnerships/{partnership.id}/compose",
        "check": f"/admin/bulletins/{draft.id}/preview",
        "confirm": f"/admin/bulletins/{draft.id}/confirm?when=now",
        "bulletin": f"/admin/bulletins/{draft.id}",
        "scheduled": f"/admin/bulletins/{scheduled.id}",
        "report": f"/admin/bulletins/{draft.id}/report",
        "members": "/admin/members",
        "outbox": "/admin/outbox",
        "templates": "/admin/templates",
        "accounts": "/admin/accounts",
        "audit": "/admin/audit",
        "branding": "/admin/branding",
    }
    shots = shots_dir(tmp_path)
    page = chromium.new_page(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page.goto(f"{url}/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin")
    problems: dict[str, object] = {}
    for name, path in pages.items():
        page.set_viewport_size({"width": 1366, "height": 900})
        response = page.goto(url + path)
        assert response is not None and response.ok, (name, response and response.status)
        violations = axe_violations(page)
        if violations:
            problems[f"{name}: axe"] = violations
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(shots / f"a11y-{name}-{width}.png"), full_page=True)
            overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                problems[f"{name}: {width}px"] = f"{overflow}px wider than the window"
    assert not problems, json.dumps(problems, indent=1)


def _tomorrow():
    from datetime import timedelta

    from commsvc.models.base import utcnow

    return utcnow() + timedelta(days=1)
