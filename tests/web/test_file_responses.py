"""Every file the admin hands out, downloaded as an organiser's browser would from the
production server (gunicorn) and from the test client alike: the member's export (a
subject access request), the brand's stylesheet and the metrics page. The deliveries CSV
is downloaded in Chromium in tests/browser/test_safe_send.py."""

from __future__ import annotations

import json

from commsvc.services.accounts import auth
from tests import factories
from tests.web.admin_session import PASSWORD, csrf


def _logged_in(via, email: str) -> None:
    page = via.get("/login").body.decode()
    answer = via.post(
        "/login", form={"csrf_token": csrf(page), "email": email, "password": PASSWORD}
    )
    assert answer.status == 302, answer.body[:500]


def test_a_members_export_downloads_whole_as_an_attachment(app, via):
    factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(membership_number="M0000042")])
    auth.create_user(f"admin-{via.name}@union.example", PASSWORD, "admin", [])
    _logged_in(via, f"admin-{via.name}@union.example")
    answer = via.get("/admin/members/M0000042/export.json")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    export = json.loads(answer.body)
    assert export["profile"]["membership_number"] == "M0000042"
    assert "preferences" in export and "consent_history" in export


def test_the_brand_stylesheet_and_the_metrics_page_are_served_whole(app, via):
    css = via.get("/admin/brand.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    assert b".top, .masthead { background: #" in css.body  # the admin bar, member pages
    metrics = via.get("/metrics")
    assert metrics.status == 200
    assert b"# TYPE" in metrics.body
