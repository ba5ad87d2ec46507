"""The confirmation: exact counts per channel, UK time across clock changes, warnings
acknowledged, the typed number above the partnership's size, and nothing sent when the
bulletin changed after it was checked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commsvc.errors import Conflict, ValidationError
from commsvc.extensions import db
from commsvc.models.base import utcnow
from commsvc.services.bulletins import confirmation, lifecycle
from tests import factories


@pytest.fixture
def draft(app):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows(
        [factories.member_row(channels="email;sms") for _ in range(3)]
        + [factories.member_row(channels="email", mobile="")]
    )
    return factories.bulletin(partnership.id)


def test_the_plan_counts_each_channel_and_the_members(draft):
    plan = confirmation.plan(draft, None)
    assert (plan.emails, plan.texts, plan.members) == (4, 3, 4)
    assert plan.sentence == (
        f"Send 4 emails and 3 text messages to 4 members of {draft.partnership.name} now"
    )


def test_a_repeat_must_be_acknowledged_and_a_large_audience_typed(draft):
    first = factories.bulletin(draft.partnership_id)
    lifecycle.send(factories.organiser(), first)
    draft.partnership.confirm_above = 2
    db.session.commit()
    plan = confirmation.plan(draft, None)
    assert any("last 24 hours" in w for w in plan.warnings) and plan.needs_typed_count
    actor = factories.organiser()
    with pytest.raises(ValidationError, match="read each warning"):
        confirmation.send_confirmed(actor, draft, None, plan.fingerprint, "4", set())
    everything = {str(n) for n in range(len(plan.warnings))}
    with pytest.raises(ValidationError, match=r"Type the number of members \(4\)"):
        confirmation.send_confirmed(actor, draft, None, plan.fingerprint, "40", everything)
    assert draft.status == "draft"
    confirmation.send_confirmed(actor, draft, None, plan.fingerprint, "4", everything)
    assert draft.status == "sending"


def test_a_change_after_the_check_sends_nothing(draft):
    later = utcnow() + timedelta(days=1)
    shown = confirmation.plan(draft, later).fingerprint
    draft.sms_body = "Something else entirely"
    db.session.commit()
    with pytest.raises(Conflict, match="changed after you checked it"):
        confirmation.send_confirmed(factories.organiser(), draft, later, shown, "", set())
    assert draft.status == "draft"


def test_members_whose_mobile_cannot_receive_texts_are_counted_before_sending(draft):
    from commsvc.models import Member

    texted = db.session.query(Member).filter(Member.mobile.is_not(None)).order_by(Member.id)
    first, second, _third = texted.all()
    # Stored before the import refused them: a London and a Manchester landline.
    first.mobile, second.mobile = "+442079460018", "+441614960000"
    db.session.commit()
    plan = confirmation.plan(draft, None)
    assert (plan.emails, plan.texts, plan.members) == (4, 1, 4)
    assert plan.sentence.startswith("Send 4 emails and 1 text message to 4 members")
    (warning,) = plan.warnings
    assert warning.startswith("2 members have a mobile number that cannot receive texts")
    with pytest.raises(ValidationError, match="read each warning"):
        confirmation.send_confirmed(factories.organiser(), draft, None, plan.fingerprint, "", set())
    assert draft.status == "draft"
