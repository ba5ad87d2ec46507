"""A member's language comes from the CSV's optional last column, or the API, and a
language the member chose on their own page is never overwritten by either."""

from __future__ import annotations

import io

from commsvc.extensions import db
from commsvc.models import Member
from commsvc.services.members import importer, preferences
from tests import factories

HEADER = [*factories.FIELDS, "language"]


def imported(rows):
    return importer.import_members(io.BytesIO(factories.csv_bytes(rows, HEADER)))


def language_of(number):
    db.session.expire_all()
    return db.session.query(Member).filter_by(membership_number=number).one().language


def test_csv_language_column_sets_welsh_and_defaults_to_english(app):
    welsh, plain = factories.member_row(language="cy"), factories.member_row(language="")
    assert imported([welsh, plain]).ok
    assert language_of(welsh["membership_number"]) == "cy"
    assert language_of(plain["membership_number"]) == "en"
    assert factories.import_rows([factories.member_row()]).ok  # the column stays optional


def test_csv_with_an_unknown_language_is_refused_on_its_line(app):
    report = imported([factories.member_row(language="fr")])
    assert [e.line for e in report.errors] == [2]
    assert "language 'fr' is not en or cy" in report.errors[0].reason
    assert db.session.query(Member).count() == 0


def test_a_members_own_language_choice_wins_over_a_later_import(app):
    row = factories.member_row(language="cy")
    assert imported([row]).ok
    member = db.session.query(Member).filter_by(membership_number=row["membership_number"]).one()
    preferences.update_choices(member, set(), True, True, False, "preference_centre", "cy")
    assert imported([{**row, "language": "en"}]).ok
    assert language_of(row["membership_number"]) == "cy"


def test_api_sets_and_shows_the_language(app, client):
    headers = factories.api_key()
    row = factories.member_row()
    body = {k: v for k, v in row.items() if k not in ("partnerships", "topics", "channels")}
    put = client.put(
        f"/api/v1/members/{row['membership_number']}",
        json={**body, "language": "cy"},
        headers=headers,
    )
    assert put.status_code == 201, put.get_json()
    assert put.get_json()["language"] == "cy"
    bad = client.put(
        f"/api/v1/members/{row['membership_number']}",
        json={**body, "language": "xx"},
        headers=headers,
    )
    assert bad.status_code == 422 and "not en or cy" in bad.get_json()["detail"]
    assert language_of(row["membership_number"]) == "cy"
