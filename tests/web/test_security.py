"""Security a person would notice: throttled logins, refused forged forms, headers that
keep the admin out of frames and scripts out of pages, and a working password reset."""

from __future__ import annotations

import re

from commsvc.extensions import db
from commsvc.models import AuditEntry, Bulletin
from commsvc.services.accounts import auth
from tests import factories
from tests.web.admin_session import PASSWORD, csrf, log_in, token_from

EMAIL = "organiser@union.example"


def _bulletin(client):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row() for _ in range(2)])
    created = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(partnership.id),
        headers=factories.api_key(),
    )
    assert created.status_code == 201
    return created.get_json()["id"]


def test_every_kind_of_response_carries_the_security_headers(app, client):
    for path in (
        "/login",
        "/api/v1/openapi.json",
        "/api/v1/partnerships",
        "/no-such-page",
        "/healthz",
        "/static/admin.js",
    ):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_admin_pages_have_no_inline_scripts_or_inline_styles(app, client):
    auth.create_user(EMAIL, PASSWORD, "admin", [])
    bulletin_id = _bulletin(client)
    log_in(client, EMAIL)
    for path in (
        "/login",
        "/admin",
        "/admin/partnerships",
        f"/admin/bulletins/{bulletin_id}",
        f"/admin/bulletins/{bulletin_id}/report",
        "/admin/accounts",
        "/admin/audit",
    ):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert " style=" not in html and " on" + "click=" not in html, path


def test_login_is_throttled_after_five_tries_per_minute(app, client):
    auth.create_user(EMAIL, PASSWORD, "organiser", [])
    for _ in range(5):
        assert log_in(client, EMAIL, "wrong password").status_code == 200
    throttled = log_in(client, EMAIL, PASSWORD)
    assert throttled.status_code == 429
    assert "Too many attempts" in throttled.get_data(as_text=True)
    assert client.get("/admin").status_code == 302  # still logged out
    auth.create_user("colleague@union.example", PASSWORD, "organiser", [])
    assert log_in(client, "colleague@union.example").status_code == 302


def test_failed_and_successful_logins_are_audited(app, client):
    auth.create_user(EMAIL, PASSWORD, "organiser", [])
    log_in(client, EMAIL, "wrong password")
    log_in(client, EMAIL)
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions[-2:] == ["login.failed", "login"]


def test_forms_posted_without_a_csrf_token_are_refused_and_change_nothing(app, client):
    auth.create_user(EMAIL, PASSWORD, "admin", [])
    bulletin_id = _bulletin(client)
    log_in(client, EMAIL)
    partnership_id = db.session.get(Bulletin, bulletin_id).partnership_id
    for path, data in (
        (f"/admin/bulletins/{bulletin_id}/send", {}),
        (
            f"/admin/partnerships/{partnership_id}/compose",
            {
                "title": "x",
                "topic": "bargaining",
                "channels": "email",
                "subject": "s",
                "email_body": "b",
            },
        ),
        ("/admin/accounts/keys", {"name": "sneaky", "role": "admin"}),
        ("/admin/accounts/users", {"email": "x@y.org", "password": PASSWORD, "role": "admin"}),
        ("/logout", {}),
    ):
        assert client.post(path, data=data).status_code == 400, path
    assert db.session.query(Bulletin).count() == 1
    assert db.session.get(Bulletin, bulletin_id).status == "draft"
    assert client.get("/admin").status_code == 200  # the forged logout did not log out


def test_the_api_needs_no_csrf_token_but_a_key(app, client):
    partnership = factories.partnership()
    factories.topics()
    body = factories.bulletin_body(partnership.id)
    assert client.post("/api/v1/bulletins", json=body).status_code == 401
    assert (
        client.post("/api/v1/bulletins", json=body, headers=factories.api_key()).status_code == 201
    )


def test_session_cookie_is_http_only_same_site_and_secure_behind_https(app, client, monkeypatch):
    from commsvc import create_app

    monkeypatch.setenv("COMMSVC_PUBLIC_URL", "https://bulletins.union.example")
    secure_app = create_app({"TESTING": True})
    with secure_app.app_context():
        auth.create_user(EMAIL, PASSWORD, "organiser", [])
        secure = secure_app.test_client()
        page = secure.get("/login", base_url="https://bulletins.union.example")
        response = secure.post(
            "/login",
            base_url="https://bulletins.union.example",
            headers={"Referer": "https://bulletins.union.example/login"},
            data={
                "csrf_token": csrf(page.get_data(as_text=True)),
                "email": EMAIL,
                "password": PASSWORD,
            },
        )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_reset_by_email_works_once(app, client, email_sink):
    auth.create_user(EMAIL, PASSWORD, "organiser", [])
    page = client.post(
        "/password-reset",
        data={"csrf_token": token_from(client, "/password-reset"), "email": EMAIL},
        follow_redirects=True,
    )
    assert "a reset link is on its way" in page.get_data(as_text=True)
    [message] = email_sink.parsed()
    assert message["To"] == EMAIL
    link = re.search(r"http://127\.0\.0\.1:5000(/password-reset/\S+)", message.get_content()).group(
        1
    )
    new_password = "a brand new passphrase"
    changed = client.post(
        link,
        data={
            "csrf_token": token_from(client, link),
            "password": new_password,
            "confirm": new_password,
        },
        follow_redirects=True,
    )
    assert "Password changed" in changed.get_data(as_text=True)
    assert log_in(client, EMAIL, PASSWORD).status_code == 200  # the old one no longer works
    assert log_in(client, EMAIL, new_password).status_code == 302
    again = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "used already" in again


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    app, client, email_sink
):
    page = client.post(
        "/password-reset",
        data={"csrf_token": token_from(client, "/password-reset"), "email": "nobody@union.example"},
        follow_redirects=True,
    )
    assert "a reset link is on its way" in page.get_data(as_text=True)
    assert email_sink.parsed() == []


def test_a_forged_reset_token_is_refused(app, client):
    auth.create_user(EMAIL, PASSWORD, "organiser", [])
    page = client.get("/password-reset/not-a-real-token", follow_redirects=True)
    assert "not valid or has expired" in page.get_data(as_text=True)


def test_a_password_reset_ends_sessions_opened_with_the_old_password(app, client, email_sink):
    auth.create_user(EMAIL, PASSWORD, "organiser", [])
    stolen = app.test_client()
    # Each client in its own app context: the fixture's context would share `g` (and with
    # it the logged-in user) between the two browsers.
    with app.app_context():
        log_in(stolen, EMAIL)
    with app.app_context():
        assert stolen.get("/admin").status_code == 200
    with app.app_context():
        client.post(
            "/password-reset",
            data={"csrf_token": token_from(client, "/password-reset"), "email": EMAIL},
        )
    [message] = email_sink.parsed()
    link = re.search(r"http://127\.0\.0\.1:5000(/password-reset/\S+)", message.get_content()).group(
        1
    )
    with app.app_context():
        client.post(
            link,
            data={
                "csrf_token": token_from(client, link),
                "password": "a brand new passphrase",
                "confirm": "a brand new passphrase",
            },
        )
    with app.app_context():
        assert stolen.get("/admin").status_code == 302  # back to the login page


def test_a_nul_character_in_a_form_or_query_is_a_400_on_every_page(app, client):
    """PostgreSQL cannot store NUL: a login form or an admin search holding one is
    refused plainly instead of failing in the database (a 500 there)."""
    auth.create_user("nul@union.example", PASSWORD, "admin", [])
    token = token_from(client, "/login")
    response = client.post(
        "/login", data={"email": "nul\x00@union.example", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    log_in(client, "nul@union.example")
    assert client.get("/admin/members?q=a%00b").status_code == 400
    assert client.get("/admin/members?q=ab").status_code == 200
