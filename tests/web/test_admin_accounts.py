"""Admins manage accounts and API keys: a new key is shown once, works, shows when it
was last used, and stops working when revoked; the audit log says who did what."""

from __future__ import annotations

import re

from commsvc.services.accounts import auth
from tests import factories
from tests.web.admin_session import PASSWORD, csrf, log_in, token_from

ADMIN = "admin@union.example"


def test_admin_creates_a_key_sees_it_once_and_its_last_use(app, client):
    factories.partnership()
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    log_in(client, ADMIN)
    page = client.post(
        "/admin/accounts/keys",
        data={
            "csrf_token": token_from(client, "/admin/accounts"),
            "name": "membership system",
            "role": "organiser",
            "regions": "North West",
        },
    ).get_data(as_text=True)
    plain = re.search(r'data-field="new-key">(csk_[^<]+)<', page).group(1)
    assert "shown only this once" in page
    listing = client.get("/admin/accounts").get_data(as_text=True)
    assert plain not in listing and "membership system" in listing and "never" in listing
    response = client.get("/api/v1/partnerships", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    listing = client.get("/admin/accounts").get_data(as_text=True)
    assert "never" not in listing and re.search(r"\d\d:\d\d (GMT|BST)</td>", listing)


def test_revoked_key_no_longer_opens_the_api(app, client):
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    key, plain = auth.create_api_key("old script", "admin", [])
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/partnerships", headers=headers).status_code == 200
    log_in(client, ADMIN)
    listing = client.get("/admin/accounts").get_data(as_text=True)
    assert f'href="/admin/accounts/keys/{key.id}/revoke"' in listing  # a link, not a button
    asked = client.get(f"/admin/accounts/keys/{key.id}/revoke").get_data(as_text=True)
    assert "Revoke the API key ‘old script’?" in asked and "It was last used" in asked
    # A POST that did not come from that page revokes nothing: it is sent there.
    stray = client.post(f"/admin/accounts/keys/{key.id}/revoke", data={"csrf_token": csrf(asked)})
    assert stray.headers["Location"].endswith(f"/admin/accounts/keys/{key.id}/revoke")
    assert client.get("/api/v1/partnerships", headers=headers).status_code == 200
    page = client.post(
        f"/admin/accounts/keys/{key.id}/revoke",
        data={"csrf_token": csrf(asked), "confirmed": "yes"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "revoked" in page
    assert client.get("/api/v1/partnerships", headers=headers).status_code == 401


def test_admin_adds_an_organiser_who_can_then_log_in(app, client):
    factories.partnership()
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    log_in(client, ADMIN)
    page = client.post(
        "/admin/accounts/users",
        data={
            "csrf_token": token_from(client, "/admin/accounts"),
            "email": "new@union.example",
            "password": PASSWORD,
            "role": "organiser",
            "regions": "North West",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Account new@union.example created" in page
    short = client.post(
        "/admin/accounts/users",
        data={
            "csrf_token": token_from(client, "/admin/accounts"),
            "email": "short@union.example",
            "password": "short",
            "role": "organiser",
        },
        follow_redirects=True,
    )
    assert "at least 10 characters" in short.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token_from(client, "/admin")})
    assert log_in(client, "new@union.example").status_code == 302


def test_organiser_cannot_open_accounts(app, client):
    auth.create_user("organiser@union.example", PASSWORD, "organiser", factories.home_regions())
    log_in(client, "organiser@union.example")
    assert client.get("/admin/accounts").status_code == 403
    assert (
        client.post(
            "/admin/accounts/keys",
            data={"csrf_token": token_from(client, "/admin"), "name": "x", "role": "admin"},
        ).status_code
        == 403
    )


def test_audit_log_shows_who_did_what(app, client):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(membership_number="ERASEME42")])
    auth.create_user(ADMIN, PASSWORD, "admin", [])
    headers = factories.api_key()
    created = client.post(
        "/api/v1/bulletins", headers=headers, json=factories.bulletin_body(partnership.id)
    ).get_json()
    client.post(f"/api/v1/bulletins/{created['id']}/cancel", headers=headers)
    client.delete("/api/v1/members/ERASEME42", headers=headers)
    log_in(client, ADMIN)
    page = client.get("/admin/audit").get_data(as_text=True)
    for action in (
        "user.create",
        "api_key.create",
        "bulletin.create",
        "bulletin.cancel",
        "member.erase",
        "login",
    ):
        assert f"<td>{action}</td>" in page, action
    assert "ERASEME42" not in page  # an erased member's number is not kept in the log
    only = client.get("/admin/audit?action=bulletin.cancel").get_data(as_text=True)
    assert "<td>bulletin.cancel</td>" in only and "<td>bulletin.create</td>" not in only


def test_admin_switches_off_a_leaver_whose_session_ends_and_changes_a_role(app, client):
    from flask import g

    from commsvc.models import User

    def new_client(app):
        return app.test_client()

    def as_(browser):
        # The test's requests share one app context, where Flask-Login keeps the user
        # it loaded and Flask-WTF the CSRF token: forget both, so each browser is seen
        # by its own cookie.
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        return browser

    auth.create_user(ADMIN, PASSWORD, "admin", [])
    leaver = auth.create_user(
        "leaver@union.example", PASSWORD, "organiser", factories.home_regions()
    )
    colleague = auth.create_user(
        "colleague@union.example", PASSWORD, "organiser", factories.home_regions()
    )
    leaver_id, colleague_id = leaver.id, colleague.id
    leaver_client = new_client(app)
    log_in(leaver_client, "leaver@union.example")
    assert leaver_client.get("/admin").status_code == 200

    log_in(as_(client), ADMIN)
    page = client.post(
        f"/admin/accounts/users/{leaver_id}",
        data={"csrf_token": token_from(client, "/admin/accounts"), "role": "organiser"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "can no longer log in" in page and "switched off" in page
    assert as_(leaver_client).get("/admin").status_code == 302  # the open session is over
    assert log_in(as_(new_client(app)), "leaver@union.example").status_code != 302

    as_(client).post(
        f"/admin/accounts/users/{colleague_id}",
        data={
            "csrf_token": token_from(client, "/admin/accounts"),
            "role": "viewer",
            "active": "on",
        },
    )
    assert app.extensions["sqlalchemy"].session.get(User, colleague_id).role == "viewer"
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "user.update" in audit and "organiser -&gt; viewer" in audit


def test_an_admin_cannot_lock_themselves_out(app, client):
    admin = auth.create_user(ADMIN, PASSWORD, "admin", [])
    admin_id = admin.id
    log_in(client, ADMIN)
    for change in ({"role": "viewer", "active": "on"}, {"role": "admin"}):
        page = client.post(
            f"/admin/accounts/users/{admin_id}",
            data={"csrf_token": token_from(client, "/admin/accounts"), **change},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert "cannot take away your own admin rights" in page
    assert client.get("/admin/accounts").status_code == 200  # still an admin, still in


def test_only_an_admin_changes_accounts(app, client):
    auth.create_user("organiser@union.example", PASSWORD, "organiser", factories.home_regions())
    target = auth.create_user(
        "other@union.example", PASSWORD, "organiser", factories.home_regions()
    )
    log_in(client, "organiser@union.example")
    response = client.post(
        f"/admin/accounts/users/{target.id}",
        data={"csrf_token": token_from(client, "/admin"), "role": "admin", "active": "on"},
    )
    assert response.status_code == 403
