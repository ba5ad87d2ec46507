"""Audience counts: the SQL preview agrees with a plain Python reading of the same rules."""

from __future__ import annotations

import random

import pytest

from commsvc.extensions import db
from commsvc.models import Member, Topic
from commsvc.services.bulletins import audience
from commsvc.services.bulletins.audience_preview import audience_preview
from commsvc.services.members import mobiles, suppression
from tests import factories

OTHER_EMPLOYER = "Bolton Council"
EXPLICIT = "Salford Joint Working Group"
BRANCHES = ["Salford Health Branch", "Salford City Branch", "Bolton Branch"]
WORKPLACES = ["Intermediate Care Unit", "Civic Centre", "Hope Hospital"]
JOBS = ["Staff Nurse", "Social Worker", "Porter"]


@pytest.fixture
def population(app):
    """About 200 members across two regions, three employers, explicit and employer links."""
    partnership = factories.partnership()
    factories.topics("bargaining", "campaigns")
    factories.topics("ballots", kind="service")
    rnd = random.Random(7)
    rows = []
    for n in range(200):
        has_email, has_mobile = [(True, True), (True, False), (False, True)][n % 3]
        rows.append(
            factories.member_row(
                region=rnd.choice([factories.REGION, "Yorkshire"]),
                branch=rnd.choice(BRANCHES),
                employer=rnd.choice([*factories.S31_EMPLOYERS, OTHER_EMPLOYER]),
                service_group=rnd.choice(["health", "local_government"]),
                workplace=rnd.choice(WORKPLACES),
                job_title=rnd.choice(JOBS),
                partnerships=rnd.choice(["", "", factories.S31, EXPLICIT]),
                email="" if not has_email else f"aud{n}@example.org",
                mobile="" if not has_mobile else f"07800 {300000 + n:06d}",
                topics=rnd.choice(["", "", "bargaining", "campaigns;ballots"]),
                channels=rnd.choice(["", "email" if has_email else "sms", "sms" * has_mobile]),
            )
        )
    assert factories.import_rows(rows).ok
    members = db.session.query(Member).order_by(Member.id).all()
    for member in members[::7]:
        member.opted_out = True
    for member in members[::11]:
        if member.email:
            suppression.suppress("email", member.email, "hard_bounce")
    for member in members[1::5]:
        if member.mobile:
            suppression.suppress("sms", member.mobile, "stop")
    for n, member in enumerate(members[2::6]):
        if member.mobile:  # a landline stored before the import refused them
            member.mobile = f"+44161496{n:04d}"
    db.session.commit()
    return partnership


def expected(partnership, filters, topic, channels):
    """The same rules as fan-out, over every member, in plain Python."""
    employer_ids = {e.id for e in partnership.employers}
    counts = {
        c: {"will_receive": 0, "skipped": 0, "suppressed": 0, "no_address": 0, "unusable": 0}
        for c in channels
    }
    size = reached = 0
    for m in db.session.query(Member).all():
        belongs = m.employer_id in employer_ids or partnership.id in {p.id for p in m.partnerships}
        checks = {
            "regions": m.region.name,
            "branches": m.branch.name if m.branch else None,
            "employers": m.employer.name if m.employer else None,
            "service_groups": m.service_group,
            "workplaces": m.workplace,
            "job_titles": m.job_title,
        }
        if not belongs or any(v not in filters[k] for k, v in checks.items() if k in filters):
            continue
        size += 1
        prefs = {p.topic_id: p.subscribed for p in m.topic_preferences}
        subscribed = prefs.get(topic.id, m.all_topics)
        gets_any = False
        on = {c for c in ("email", "sms") if (m.email_enabled, m.sms_enabled)[c == "sms"]}
        on = {c for c in on if (m.email, m.mobile)[c == "sms"]}
        if topic.kind == "service":  # always sent: on the channels on, else a fallback
            wanted = on or ({"email"} if m.email else {"sms"} if m.mobile else set())
        else:
            wanted = on if subscribed and not m.opted_out else set()
        for channel in channels:
            address = m.email if channel == "email" else m.mobile
            if not address:
                counts[channel]["no_address"] += 1
            elif channel not in wanted:
                counts[channel]["skipped"] += 1
            elif suppression.is_suppressed(channel, address):
                counts[channel]["suppressed"] += 1
            elif channel == "sms" and not mobiles.is_usable_mobile(address):
                counts[channel]["unusable"] += 1
            else:
                counts[channel]["will_receive"] += 1
                gets_any = True
        reached += gets_any
    return size, reached, counts


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"regions": [factories.REGION]},
        {"service_groups": ["health"], "employers": [factories.S31_EMPLOYERS[0], OTHER_EMPLOYER]},
        {"branches": BRANCHES[:2], "workplaces": WORKPLACES[1:], "job_titles": JOBS[:2]},
        {"regions": ["Yorkshire"], "service_groups": ["local_government"], "job_titles": JOBS},
    ],
)
@pytest.mark.parametrize("topic_name", ["bargaining", "ballots"])
def test_preview_counts_match_a_plain_python_count(population, filters, topic_name):
    topic = db.session.query(Topic).filter_by(name=topic_name).one()
    preview = audience_preview(population.id, filters, topic.id, ["email", "sms"])
    size, reached, counts = expected(population, filters, topic, ["email", "sms"])
    assert preview.audience_size == size == audience.audience_size(population.id, filters)
    assert {c: vars(v) for c, v in preview.channels.items()} == counts
    assert preview.reached == reached
    assert preview.suppressed == counts["email"]["suppressed"] + counts["sms"]["suppressed"]
    assert preview.unusable_mobiles == counts["sms"]["unusable"]
    if not filters:  # the population exercises every outcome (email has no "unusable")
        outcomes = [
            n for c, v in counts.items() for k, n in v.items() if (c, k) != ("email", "unusable")
        ]
        assert all(n > 0 for n in outcomes), counts


def test_explicit_members_of_a_partnership_count_without_its_employers(population):
    explicit = factories.partnership(EXPLICIT + " 2", employers=[])
    factories.import_rows(
        [factories.member_row(partnership=explicit.name, partnerships=explicit.name, employer="")]
    )
    topic = db.session.query(Topic).filter_by(name="bargaining").one()
    preview = audience_preview(explicit.id, {}, topic.id, ["email"])
    assert preview.audience_size == 1 and preview.channels["email"].will_receive == 1


def test_a_global_opt_out_stops_campaigns_but_not_service_messages(population):
    member = db.session.query(Member).filter(Member.email.is_not(None)).first()
    only = factories.partnership("Only One", employers=[])
    member.partnerships = [only]
    member.opted_out = True
    member.all_topics = True
    member.topic_preferences = []
    member.email_enabled = True
    db.session.commit()
    campaign = db.session.query(Topic).filter_by(name="bargaining").one()
    service = db.session.query(Topic).filter_by(name="ballots").one()
    assert audience_preview(only.id, {}, campaign.id, ["email"]).channels["email"].skipped == 1
    if not suppression.is_suppressed("email", member.email):
        got = audience_preview(only.id, {}, service.id, ["email"]).channels["email"]
        assert got.will_receive == 1 and got.skipped == 0


def test_preview_of_an_empty_audience_is_all_zero(population):
    topic = db.session.query(Topic).filter_by(name="bargaining").one()
    preview = audience_preview(population.id, {"job_titles": ["Astronaut"]}, topic.id, ["sms"])
    assert preview.as_json() == {
        "audience_size": 0,
        "reached": 0,
        "not_reached": 0,
        "channels": {
            "sms": {
                "will_receive": 0,
                "skipped": 0,
                "suppressed": 0,
                "no_address": 0,
                "unusable": 0,
            }
        },
        "excluded": {"skipped": 0, "suppressed": 0},
        "unusable_mobiles": 0,
    }


def _someone(**overrides):
    values = {
        "id": 1,
        "public_id": "p",
        "email": "a@example.org",
        "mobile": "+447800300001",
        "email_enabled": True,
        "sms_enabled": True,
        "opted_out": False,
        "subscribed": True,
    }
    return audience.AudienceMember(**{**values, **overrides})


def test_member_who_stopped_everything_gets_service_messages_but_not_campaigns():
    stopped = _someone(opted_out=True)
    assert audience.decide(stopped, "email", "campaign", suppressed=False) == "skipped"
    assert audience.decide(stopped, "email", "service", suppressed=False) == "queued"


def test_service_messages_follow_channels_but_not_topic_choices_and_respect_suppression():
    assert audience.decide(_someone(sms_enabled=False), "sms", "service", False) == "skipped"
    assert audience.decide(_someone(subscribed=False), "email", "service", False) == "queued"
    assert audience.decide(_someone(opted_out=True), "email", "service", True) == "suppressed"


def test_member_with_every_channel_off_gets_service_messages_by_email_else_text():
    off = _someone(email_enabled=False, sms_enabled=False)
    assert audience.decide(off, "email", "service", False) == "queued"
    assert audience.decide(off, "sms", "service", False) == "skipped"
    assert audience.decide(off, "email", "campaign", False) == "skipped"
    no_email = _someone(email=None, email_enabled=False, sms_enabled=False)
    assert audience.decide(no_email, "sms", "service", False) == "queued"
