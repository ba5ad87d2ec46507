"""The admin's member pages: find a member, see their choices and consent, export,
erase, and import a CSV with a preview of its errors before anything changes."""

from __future__ import annotations

import io
import json
import re

import pytest

from commsvc.extensions import db
from commsvc.models import Member
from commsvc.services.accounts import auth
from commsvc.services.members import preferences, suppression
from tests import factories

PASSWORD = "a long enough password"


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, email):
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": csrf(page), "email": email, "password": PASSWORD})


@pytest.fixture
def admin(app, client):
    factories.topics()
    auth.create_user("admin@union.example", PASSWORD, "admin", [])
    log_in(client, "admin@union.example")
    return client


def test_search_finds_a_member_by_name_and_filters_by_service_group(admin):
    factories.member(first_name="Gwen", last_name="Pritchard", service_group="health")
    factories.member(first_name="Owain", service_group="local_government")
    page = admin.get("/admin/members?q=pritch").get_data(as_text=True)
    assert "Gwen Pritchard" in page and "Owain" not in page and "<strong>1</strong> member " in page
    page = admin.get("/admin/members?service_group=local_government").get_data(as_text=True)
    assert "Owain" in page and "Gwen" not in page


def test_organiser_sees_only_members_of_their_regions(app, client):
    factories.topics()
    factories.member(first_name="Here")
    away = factories.member(first_name="Away", region="Yorkshire")
    auth.create_user("org@union.example", PASSWORD, "organiser", factories.home_regions())
    log_in(client, "org@union.example")
    page = client.get("/admin/members").get_data(as_text=True)
    assert "Here" in page and "Away" not in page
    assert client.get(f"/admin/members/{away.membership_number}").status_code == 404


def test_member_page_shows_preferences_consent_history_and_export(admin):
    member = factories.member(first_name="Gwen")
    preferences.update_choices(
        member, set(), email=True, sms=False, stop_everything=True, source="preference_centre"
    )
    page = admin.get(f"/admin/members/{member.membership_number}").get_data(as_text=True)
    assert "stopped all campaign messages" in page
    assert "preference centre" in page and "import" in page  # consent history, newest first
    assert page.index("preference centre") < page.index("<td>import</td>")
    exported = admin.get(f"/admin/members/{member.membership_number}/export.json")
    assert exported.headers["Content-Disposition"].startswith("attachment")
    assert json.loads(exported.data)["profile"]["first_name"] == "Gwen"


def test_erase_needs_the_number_typed_then_wipes_the_member(admin):
    member = factories.member(first_name="Gwen", email="gwen@example.org")
    number = member.membership_number
    page = admin.get(f"/admin/members/{number}").get_data(as_text=True)
    refused = admin.post(
        f"/admin/members/{number}/erase",
        data={"csrf_token": csrf(page), "confirm": "wrong"},
        follow_redirects=True,
    )
    assert "Nothing was erased" in refused.get_data(as_text=True)
    assert db.session.query(Member).filter_by(membership_number=number).count() == 1
    done = admin.post(
        f"/admin/members/{number}/erase",
        data={"csrf_token": csrf(page), "confirm": number},
        follow_redirects=True,
    )
    assert f"Member {number} erased" in done.get_data(as_text=True)
    assert suppression.is_suppressed("email", "gwen@example.org")
    assert admin.get(f"/admin/members/{number}").status_code == 404


def test_import_previews_errors_then_lands_good_rows_on_confirm(admin):
    good = [factories.member_row() for _ in range(3)]
    bad = factories.member_row(email="not-an-email", mobile="")
    warned = factories.member_row(mobile="0123")
    data = factories.csv_bytes([good[0], bad, *good[1:], warned])
    form = admin.get("/admin/import").get_data(as_text=True)
    preview = admin.post(
        "/admin/import",
        data={"csrf_token": csrf(form), "file": (io.BytesIO(data), "members.csv")},
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "<strong>4</strong> new" in html and "<td>3</td><td>email &#39;not-an-email&#39;" in html
    assert "1 with warnings" in html
    assert "<td>6</td><td>mobile &#39;0123&#39; is not a valid phone number (check" in html
    assert db.session.query(Member).count() == 0  # nothing until confirmed
    confirm = re.search(r'action="(/admin/import/[0-9a-f]+/confirm)"', html).group(1)
    done = admin.post(confirm, data={"csrf_token": csrf(html)}).get_data(as_text=True)
    assert "4 new" in done and "1 kept with warnings" in done
    assert db.session.query(Member).count() == 4
    assert admin.post(confirm, data={"csrf_token": csrf(html)}).status_code == 404  # used up


def test_import_of_a_file_without_the_header_says_what_is_missing(admin):
    form = admin.get("/admin/import").get_data(as_text=True)
    response = admin.post(
        "/admin/import",
        data={"csrf_token": csrf(form), "file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "missing the columns" in response.get_data(as_text=True)


def test_viewer_cannot_erase_or_import(app, client):
    factories.topics()
    member = factories.member()
    auth.create_user("viewer@union.example", PASSWORD, "viewer", factories.home_regions())
    log_in(client, "viewer@union.example")
    page = client.get(f"/admin/members/{member.membership_number}").get_data(as_text=True)
    response = client.post(
        f"/admin/members/{member.membership_number}/erase",
        data={"csrf_token": csrf(page), "confirm": member.membership_number},
        follow_redirects=True,
    )
    assert "can read but not change" in response.get_data(as_text=True)
    assert db.session.get(Member, member.id).erased_at is None
    assert "needs an account" in client.get("/admin/import", follow_redirects=True).get_data(
        as_text=True
    )


def test_unconfirmed_uploads_are_removed_after_a_day_on_the_next_upload(admin, app):
    import os
    import time
    from pathlib import Path

    folder = Path(app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stale, fresh = folder / ("a" * 32 + ".csv"), folder / ("b" * 32 + ".csv")
    for path in (stale, fresh):
        path.write_bytes(factories.csv_bytes([factories.member_row()]))
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    form = admin.get("/admin/import").get_data(as_text=True)
    data = factories.csv_bytes([factories.member_row()])
    preview = admin.post(
        "/admin/import",
        data={"csrf_token": csrf(form), "file": (io.BytesIO(data), "members.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    assert not stale.exists() and fresh.exists()
    html = preview.get_data(as_text=True)
    assert (
        admin.post(f"/admin/import/{'a' * 32}/confirm", data={"csrf_token": csrf(html)}).status_code
        == 404
    )
    fresh.unlink()
