"""The admin path an organiser walks: log in, compose for a partnership, see the bulletin."""

from __future__ import annotations

import re

from commsvc.extensions import db
from commsvc.models import Bulletin
from commsvc.services.accounts import auth
from tests import factories


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, email="organiser@union.example", password="a long enough password"):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"csrf_token": csrf(page), "email": email, "password": password}
    )


def test_organiser_logs_in_composes_and_sees_the_draft(app, client):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row() for _ in range(4)])
    auth.create_user(
        "organiser@union.example", "a long enough password", "organiser", factories.home_regions()
    )
    assert log_in(client).status_code == 302
    dashboard = client.get("/admin").get_data(as_text=True)
    assert partnership.name in dashboard
    form = client.get(f"/admin/partnerships/{partnership.id}/compose").get_data(as_text=True)
    response = client.post(
        f"/admin/partnerships/{partnership.id}/compose",
        data={
            "csrf_token": csrf(form),
            "title": "Joint working group meeting",
            "topic": "campaigns",
            "channels": ["email"],
            "subject": "Meeting",
            "email_body": "Hello {{ member.first_name }}",
            "sms_body": "",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Joint working group meeting" in page and "audience <strong>4</strong>" in page
    assert db.session.query(Bulletin).count() == 1


def test_wrong_password_is_refused_with_a_clear_message(app, client):
    auth.create_user(
        "organiser@union.example", "a long enough password", "organiser", factories.home_regions()
    )
    response = log_in(client, password="wrong password")
    assert response.status_code == 200
    assert "do not match an account" in response.get_data(as_text=True)
    assert client.get("/admin").status_code == 302


def test_post_without_csrf_token_is_refused(app, client):
    auth.create_user(
        "organiser@union.example", "a long enough password", "organiser", factories.home_regions()
    )
    response = client.post(
        "/login", data={"email": "organiser@union.example", "password": "a long enough password"}
    )
    assert response.status_code == 400
