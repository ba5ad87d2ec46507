"""Member CSV import: bad rows are reported with line and reason; good rows land."""

from __future__ import annotations

import io

import pytest

from commsvc.errors import ValidationError
from commsvc.extensions import db
from commsvc.models import Member
from commsvc.services.members import importer
from tests import factories

NOT_A_NUMBER_WARNING = (
    "mobile '0123' is not a valid phone number (check the digits and the country code): "
    "give a mobile number, such as 07911 123456, or +353 86 123 4567 outside the UK; "
    "the member was kept without a mobile"
)


def run(rows, header=None, dry_run=False):
    return importer.import_members(io.BytesIO(factories.csv_bytes(rows, header)), dry_run=dry_run)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"membership_number": ""}, "membership_number is missing"),
        ({"email": "", "mobile": ""}, "a member needs an email or a mobile"),
        ({"email": "not-an-email", "mobile": ""}, "email 'not-an-email' is not valid"),
        ({"mobile": "0123", "email": ""}, "mobile '0123' is not a valid phone number"),
        ({"service_group": "fire_service"}, "service_group 'fire_service' is not one of"),
        ({"channels": "fax"}, "channel 'fax' is not email or sms"),
        ({"channels": "sms", "mobile": ""}, "channel sms chosen but there is no mobile"),
        ({"region": ""}, "region is missing"),
    ],
)
def test_bad_row_is_reported_with_line_and_reason_and_good_rows_land(app, overrides, reason):
    good_before = factories.member_row()
    bad = factories.member_row(**overrides)
    good_after = factories.member_row()
    report = run([good_before, bad, good_after])
    assert [(e.line, reason in e.reason) for e in report.errors] == [(3, True)]
    numbers = {m.membership_number for m in db.session.query(Member)}
    assert numbers == {good_before["membership_number"], good_after["membership_number"]}


def test_repeated_membership_number_is_an_error_on_its_later_line(app):
    first = factories.member_row(first_name="First")
    again = factories.member_row(membership_number=first["membership_number"], first_name="Again")
    report = run([first, again])
    assert [(e.line, "appears earlier in the file" in e.reason) for e in report.errors] == [
        (3, True)
    ]
    assert db.session.query(Member).one().first_name == "First"


def test_import_normalises_phone_numbers_and_trims_names(app):
    run(
        [factories.member_row(mobile="07911 123 456", first_name="  Siân  ", email="A@Example.ORG")]
    )
    member = db.session.query(Member).one()
    assert member.mobile == "+447911123456"
    assert member.first_name == "Siân"
    assert member.email == "A@example.org"


def test_second_import_of_the_same_file_changes_nothing(app):
    rows = [factories.member_row(topics="bargaining;campaigns") for _ in range(5)]
    first = run(rows)
    second = run(rows)
    assert (first.created, first.updated) == (5, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)


def test_dry_run_reports_but_saves_nothing(app):
    report = run(
        [factories.member_row(), factories.member_row(email="bad", mobile="")], dry_run=True
    )
    assert report.created == 1 and len(report.errors) == 1
    assert db.session.query(Member).count() == 0


def test_missing_columns_are_named(app):
    with pytest.raises(ValidationError, match="missing the columns: last_name, mobile"):
        run([factories.member_row()], header=["membership_number", "first_name", "email"])


def test_row_with_wrong_number_of_fields_is_reported(app):
    data = factories.csv_bytes([factories.member_row()]) + b"X1,only,three\n"
    report = importer.import_members(io.BytesIO(data))
    assert [(e.line, "expected 14 fields, found 3" in e.reason) for e in report.errors] == [
        (3, True)
    ]
    assert db.session.query(Member).count() == 1


def test_file_that_is_not_utf8_gets_a_clear_error(app):
    with pytest.raises(ValidationError, match="not UTF-8"):
        importer.import_members(io.BytesIO("membership_number,first_name\n".encode("utf-16")))


def test_empty_topics_mean_every_topic_and_listed_topics_mean_only_those(app):
    every = factories.member_row(topics="")
    some = factories.member_row(topics="bargaining")
    run([every, some])
    by_number = {m.membership_number: m for m in db.session.query(Member)}
    assert by_number[every["membership_number"]].all_topics is True
    chosen = by_number[some["membership_number"]]
    assert chosen.all_topics is False
    assert [p.subscribed for p in chosen.topic_preferences] == [True]


def test_many_chunks_with_bad_rows_land_every_good_row_and_a_second_run_changes_nothing(
    app, monkeypatch
):
    monkeypatch.setattr(importer, "CHUNK_ROWS", 40)  # many chunks from a small file
    rows = [
        factories.member_row(
            region=f"Region {n % 3}",
            branch=f"Branch {n % 5}",
            employer=f"Employer {n % 4}",
            partnerships=f"Partnership {n % 2}",
            topics="bargaining;campaigns" if n % 2 else "",
            channels="email" if n % 3 else "",
            **(
                {"email": "bad@", "mobile": ""}
                if n % 50 == 49
                else {"email": f"chunk{n}@example.org"}
            ),
        )
        for n in range(300)
    ]
    first = run(rows)
    assert [e.line for e in first.errors] == [n + 2 for n in range(49, 300, 50)]
    assert (first.created, first.updated) == (294, 0)
    second = run(rows)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 294)
    changed = [{**row, "first_name": "Changed"} if n < 100 else row for n, row in enumerate(rows)]
    third = run(changed)
    assert (third.created, third.updated, third.unchanged) == (0, 98, 196)
    member = db.session.query(Member).filter_by(email="chunk1@example.org").one()
    assert [p.name for p in member.partnerships] == ["Partnership 1"]
    assert member.email_enabled and not member.sms_enabled and not member.all_topics


def test_dry_run_over_many_chunks_creates_no_names_or_members(app, monkeypatch):
    from commsvc.models import Region

    monkeypatch.setattr(importer, "CHUNK_ROWS", 10)
    report = run([factories.member_row(region="Wales") for _ in range(35)], dry_run=True)
    assert (report.created, report.errors) == (35, [])
    assert db.session.query(Member).count() == 0
    assert db.session.query(Region).filter_by(name="Wales").count() == 0


def test_an_undecodable_line_is_reported_alone_and_the_rest_imports(app):
    rows = [factories.member_row() for _ in range(3)]
    data = factories.csv_bytes(rows[:1])
    bad = factories.csv_bytes([factories.member_row(first_name="Ren\xe9")]).splitlines()[1]
    data += bad.decode().encode("latin-1") + b"\n"
    data += factories.csv_bytes(rows[1:]).split(b"\n", 1)[1]
    report = importer.import_members(io.BytesIO(data))
    assert [(e.line, e.reason) for e in report.errors] == [(3, "this line is not UTF-8 text")]
    assert report.created == 3
    numbers = {m.membership_number for m in db.session.query(Member)}
    assert numbers == {row["membership_number"] for row in rows}


def test_a_quote_never_closed_costs_only_its_own_line(app):
    rows = [factories.member_row() for _ in range(4)]
    body = factories.csv_bytes(rows).decode().splitlines()
    body[2] = body[2].replace("Alex", '"Alex', 1)  # line 3: a quote opened, never closed
    report = importer.import_members(io.BytesIO(("\n".join(body) + "\n").encode()))
    assert [(e.line, "never closed" in e.reason) for e in report.errors] == [(3, True)]
    assert report.created == 3
    landed = {m.membership_number for m in db.session.query(Member)}
    assert landed == {rows[0]["membership_number"], *(r["membership_number"] for r in rows[2:])}


def test_a_csv_error_costs_only_its_own_line(app):
    import csv

    limit = csv.field_size_limit(1000)
    try:
        rows = [factories.member_row() for _ in range(3)]
        rows[1]["workplace"] = "x" * 1500
        report = importer.import_members(io.BytesIO(factories.csv_bytes(rows)))
    finally:
        csv.field_size_limit(limit)
    assert [(e.line, "not valid CSV" in e.reason) for e in report.errors] == [(3, True)]
    assert report.created == 2


def test_a_member_is_kept_with_the_channels_they_can_use_and_the_row_warned(app):
    no_mobile = factories.member_row(channels="email;sms", mobile="")
    bad_mobile = factories.member_row(mobile="0123")
    report = run([no_mobile, bad_mobile])
    assert report.ok and report.errors == [] and report.created == 2
    assert [(w.line, w.reason) for w in report.warnings] == [
        (2, "channel sms chosen but there is no mobile: left out"),
        (3, NOT_A_NUMBER_WARNING),
    ]
    by_number = {m.membership_number: m for m in db.session.query(Member)}
    first = by_number[no_mobile["membership_number"]]
    assert (first.email, first.mobile) == (no_mobile["email"], None)
    assert (first.email_enabled, first.sms_enabled) == (True, False)
    second = by_number[bad_mobile["membership_number"]]
    assert (second.email, second.mobile) == (bad_mobile["email"], None)


def test_an_invalid_new_mobile_keeps_the_one_on_record(app):
    row = factories.member_row(mobile="07911 123456")
    run([row])
    report = run([{**row, "mobile": "0123", "first_name": "Renamed"}])
    assert report.updated == 1 and len(report.warnings) == 1
    member = db.session.query(Member).one()
    assert (member.first_name, member.mobile) == ("Renamed", "+447911123456")


def test_a_repeated_number_is_an_error_even_when_its_first_row_was_refused(app):
    first = factories.member_row(email="", mobile="", first_name="First")
    again = factories.member_row(membership_number=first["membership_number"], first_name="Again")
    report = run([first, again])
    assert [(e.line, "appears earlier in the file" in e.reason) for e in report.errors] == [
        (2, False),
        (3, True),
    ]
    assert db.session.query(Member).count() == 0


def test_a_landline_in_the_mobile_column_is_named_on_its_row_and_the_member_kept(app):
    landline = factories.member_row(mobile="020 7946 0018", channels="email;sms")
    report = run([factories.member_row(), landline])
    assert report.errors == [] and report.created == 2
    (warning,) = [w for w in report.warnings if "020 7946 0018" in w.reason]
    assert warning.line == 3
    assert "is a landline number, which cannot receive texts" in warning.reason
    assert "give a mobile number" in warning.reason
    member = db.session.query(Member).filter_by(membership_number=landline["membership_number"])
    kept = member.one()
    assert (kept.email, kept.mobile, kept.first_name) == (
        landline["email"],
        None,
        landline["first_name"],
    )


def test_a_row_whose_only_address_is_a_landline_is_refused(app):
    report = run([factories.member_row(email="", mobile="0161 496 0000")])
    assert [e.line for e in report.errors] == [2]
    assert "is a landline number" in report.errors[0].reason
    assert db.session.query(Member).count() == 0
