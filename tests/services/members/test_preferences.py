"""A member's own choices: SMS keywords, the rule that imports never overwrite them,
and consent records for every change."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member, Topic
from commsvc.services.members import preferences, suppression
from tests import factories

STOPS = ["STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT"]


def fresh(member_id):
    db.session.expire_all()
    return db.session.get(Member, member_id)


@pytest.mark.parametrize("word", STOPS + ["stop", " Stop. ", "STOP ALL"])
def test_each_stop_keyword_turns_sms_off_and_suppresses_the_number(app, word):
    member = factories.member(mobile="07800 555001")
    assert preferences.apply_sms_keyword("+447800555001", word) == "stop"
    assert fresh(member.id).sms_enabled is False
    assert suppression.is_suppressed("sms", "+447800555001")
    record = db.session.query(ConsentRecord).filter_by(source="sms_keyword").one()
    assert record.change == {"sms": False, "keyword": "".join(word.split()).upper().strip(".")}


@pytest.mark.parametrize("reported", ["07800 555002", "447800555002", "+44 7800 555002"])
def test_stop_matches_the_number_however_the_gateway_writes_it(app, reported):
    member = factories.member(mobile="07800 555002")
    assert preferences.apply_sms_keyword(reported, "STOP") == "stop"
    assert fresh(member.id).sms_enabled is False
    assert suppression.is_suppressed("sms", "+447800555002")


def test_start_turns_sms_back_on_and_lifts_the_stop(app):
    member = factories.member(mobile="07800 555003")
    preferences.apply_sms_keyword("+447800555003", "STOP")
    assert preferences.apply_sms_keyword("+447800555003", "start") == "start"
    assert fresh(member.id).sms_enabled is True
    assert not suppression.is_suppressed("sms", "+447800555003")


def test_start_does_not_lift_a_suppression_the_member_did_not_ask_for(app):
    factories.member(mobile="07800 555004")
    suppression.suppress("sms", "+447800555004", "hard_bounce")
    preferences.apply_sms_keyword("+447800555004", "START")
    assert suppression.is_suppressed("sms", "+447800555004")


def test_other_replies_change_nothing(app):
    member = factories.member(mobile="07800 555005")
    assert preferences.apply_sms_keyword("+447800555005", "Stop sending me the rota?") is None
    assert fresh(member.id).sms_enabled is True
    assert db.session.query(ConsentRecord).filter_by(source="sms_keyword").count() == 0


def test_a_members_own_choice_is_never_overwritten_by_an_import(app):
    factories.topics("bargaining", "campaigns")
    row = factories.member_row(topics="bargaining;campaigns", channels="email;sms")
    factories.import_rows([row])
    member = db.session.query(Member).one()
    campaigns = db.session.query(Topic).filter_by(name="campaigns").one()
    preferences.update_choices(
        member,
        {campaigns.id},
        email=True,
        sms=False,
        stop_everything=False,
        source="preference_centre",
    )
    report = factories.import_rows(
        [{**row, "first_name": "Renamed", "topics": "bargaining", "channels": "email;sms"}]
    )
    assert (report.updated, report.errors) == (1, [])
    member = fresh(member.id)
    assert member.first_name == "Renamed"  # details follow the file
    assert member.sms_enabled is False  # the member's choices do not
    subscribed = {p.topic_id for p in member.topic_preferences if p.subscribed}
    assert subscribed == {campaigns.id}


def test_an_import_sets_choices_while_the_member_has_made_none(app):
    factories.topics("bargaining", "campaigns")
    row = factories.member_row(channels="email;sms")
    factories.import_rows([row])
    factories.import_rows([{**row, "channels": "email", "topics": "campaigns"}])
    member = db.session.query(Member).one()
    assert (member.email_enabled, member.sms_enabled, member.all_topics) == (True, False, False)
    sources = [r.source for r in db.session.query(ConsentRecord).order_by(ConsentRecord.id)]
    assert sources == ["import", "import"]


def test_every_preference_centre_change_is_recorded_with_its_wording(app):
    member = factories.member()
    for stop in (True, False):
        preferences.update_choices(
            member, set(), email=True, sms=True, stop_everything=stop, source="preference_centre"
        )
    records = db.session.query(ConsentRecord).filter_by(source="preference_centre").all()
    assert [r.change["stop_everything"] for r in records] == [True, False]
    assert {r.wording_version for r in records} == {preferences.WORDING_VERSION}
