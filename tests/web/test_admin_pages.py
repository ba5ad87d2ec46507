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
    assert "Joint working group meeting" in page and "Audience: <strong>4 members</strong>" in page
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


def test_an_admin_brands_the_admin_and_nobody_sees_the_softwares_name(app, client):
    from commsvc.services.bulletins import branding

    auth.create_user("admin@union.example", "a long enough password", "admin", [])
    auth.create_user(
        "organiser@union.example", "a long enough password", "organiser", factories.home_regions()
    )
    log_in(client, "admin@union.example")
    page = client.get("/admin/branding").get_data(as_text=True)
    assert "commsvc" not in page.replace("/static/", "")
    bad = client.post(
        "/admin/branding",
        data={"csrf_token": csrf(page), "union_name": "Unison North", "colour": "purple"},
    )
    assert bad.status_code == 422 and "six hexadecimal digits" in bad.get_data(as_text=True)
    client.post(
        "/admin/branding",
        data={
            "csrf_token": csrf(page),
            "union_name": "Health and Care Union",
            "sender_name": "North West organisers",
            "footer_address": "1 Union Street, Salford",
            "colour": "#00533f",
        },
    )
    brand = branding.brand_for(None)
    assert (brand.union_name, brand.sender, brand.colour) == (
        "Health and Care Union",
        "North West organisers",
        "#00533f",
    )
    dashboard = client.get("/admin").get_data(as_text=True)
    assert "Health and Care Union bulletins" in dashboard and "/admin/brand.css" in dashboard
    assert "background: #00533f;" in client.get("/admin/brand.css").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf(dashboard)})
    log_in(client, "organiser@union.example")
    assert client.get("/admin/branding").status_code == 403
