"""The one rule for what a member gets, in its two renderings: `audience.verdict` in
Python (the send-time recheck, the preference page) and `audience.choice_status_sql`
(fan-out, the preview). For every combination of addresses and choices, on both
channels and both kinds of topic, they must say the same: queued or skipped, and the
same reason the organiser reads in the outbox."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Member, Topic, TopicPreference
from commsvc.services.bulletins import audience
from tests import factories

EMAILS = (None, "", "rule@example.org")
MOBILES = (None, "+447700900123")
TOPIC_CHOICES = (None, True, False)  # no stored choice (all_topics decides), kept, dropped


@pytest.fixture
def everyone(app):
    """One member per combination (3 x 2 x 2^4 x 3 = 288), all on one topic."""
    factories.topics("bargaining")
    factories.topics("ballots", kind="service")
    template = factories.member(email="template@example.org")
    topics = {t.kind: t for t in db.session.scalars(select(Topic))}
    combinations = itertools.product(
        EMAILS, MOBILES, (True, False), (True, False), (True, False), (True, False), TOPIC_CHOICES
    )
    for n, (email, mobile, email_on, sms_on, stopped, all_topics, choice) in enumerate(
        combinations
    ):
        member = Member(
            membership_number=f"R{n:05d}",
            first_name="Rule",
            last_name=f"Case{n}",
            email=email,
            mobile=mobile,
            region_id=template.region_id,
            employer_id=template.employer_id,
            service_group="health",
            language="en",
            email_enabled=email_on,
            sms_enabled=sms_on,
            opted_out=stopped,
            all_topics=all_topics,
        )
        db.session.add(member)
        db.session.flush()
        if choice is not None:
            for topic in topics.values():
                db.session.add(
                    TopicPreference(member_id=member.id, topic_id=topic.id, subscribed=choice)
                )
    db.session.commit()
    return topics


@pytest.mark.parametrize("kind", ["campaign", "service"])
@pytest.mark.parametrize("channel", ["email", "sms"])
def test_sql_rule_says_what_the_python_rule_says(everyone, kind, channel):
    topic = everyone[kind]
    status, reason = audience.choice_status_sql(channel, kind)
    rows = db.session.execute(
        select(*audience.choice_columns(), status, reason, audience.has_address_sql(channel))
        .select_from(Member)
        .outerjoin(TopicPreference, audience.topic_choice(topic.id))
        .where(Member.membership_number.like("R%"))
    ).all()
    assert len(rows) == 288
    compared = 0
    for row in rows:
        member = audience.AudienceMember(*row[:8])
        has_address = bool(row[10])
        assert has_address == bool(audience.address_for(member, channel)), member
        if not has_address:
            continue  # no address on this channel: no delivery row at all
        expected = audience.verdict(member, channel, kind, suppressed=False)
        assert (row[8], row[9]) == (str(expected[0]), expected[1]), member
        compared += 1
    assert compared == (96 if channel == "email" else 144)  # those with an address
