"""The bulletin lifecycle: every allowed and every forbidden move, approval, cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commsvc.errors import Forbidden, IllegalMove, ValidationError
from commsvc.extensions import db
from commsvc.models import Bulletin, BulletinTransition, Delivery
from commsvc.models.base import utcnow
from commsvc.services.bulletins import lifecycle
from commsvc.services.delivery import fanout
from commsvc.statuses import BULLETIN_MOVES, BulletinStatus
from tests import factories

ALL = list(BulletinStatus)
ALLOWED = [(a, b) for a in ALL for b in ALL if b in BULLETIN_MOVES[a]]
FORBIDDEN = [(a, b) for a in ALL for b in ALL if b not in BULLETIN_MOVES[a]]


def test_the_lifecycle_is_the_documented_one():
    B = BulletinStatus
    assert set(ALLOWED) >= {
        (B.DRAFT, B.APPROVED),
        (B.APPROVED, B.SCHEDULED),
        (B.SCHEDULED, B.SENDING),
        (B.SENDING, B.PAUSED),
        (B.PAUSED, B.SENDING),
        (B.SENDING, B.SENT),
    }
    for status in ALL:
        if status not in (B.SENT, B.CANCELLED):
            assert (status, B.CANCELLED) in ALLOWED
    assert not BULLETIN_MOVES[B.SENT] and not BULLETIN_MOVES[B.CANCELLED]


@pytest.fixture
def draft(app):
    partnership = factories.partnership()
    return factories.bulletin(partnership.id)


def _at(bulletin: Bulletin, status: BulletinStatus) -> Bulletin:
    bulletin.status = str(status)  # set-up only: put the bulletin where the move starts
    db.session.commit()
    return bulletin


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_move_happens_and_is_recorded_with_who_and_when(draft, source, target):
    bulletin = _at(draft, source)
    before = utcnow()
    lifecycle.move(bulletin, target, "carol@union.example", "a note")
    db.session.commit()
    assert db.session.get(Bulletin, bulletin.id).status == target
    (step,) = lifecycle.history(bulletin.id)
    assert (step.from_status, step.to_status) == (source, target)
    assert step.actor == "carol@union.example" and step.note == "a note"
    assert step.at >= before - timedelta(seconds=1)


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_forbidden_move_is_refused_and_changes_nothing(draft, source, target):
    bulletin = _at(draft, source)
    with pytest.raises(IllegalMove, match=f"{source} cannot become {target}"):
        lifecycle.move(bulletin, target, "carol@union.example")
    db.session.rollback()
    assert db.session.get(Bulletin, bulletin.id).status == source
    assert lifecycle.history(bulletin.id) == []


def test_conditional_move_lets_exactly_one_racer_win(draft):
    bulletin = _at(draft, BulletinStatus.SCHEDULED)
    assert lifecycle.start_scheduled(bulletin.id, "started on schedule") is True
    assert lifecycle.start_scheduled(bulletin.id, "started on schedule") is False
    moves = [(t.from_status, t.to_status) for t in lifecycle.history(bulletin.id)]
    assert moves == [("scheduled", "sending")]


def test_two_person_approval_refuses_the_author_and_accepts_another(draft):
    draft.partnership.requires_approval = True
    db.session.commit()
    author = factories.organiser("author@union.example")
    with pytest.raises(ValidationError, match="approve"):
        lifecycle.send(author, draft)
    with pytest.raises(Forbidden, match="another organiser must approve"):
        lifecycle.approve(author, draft)
    db.session.rollback()
    assert draft.status == "draft" and draft.approved_by is None

    lifecycle.approve(factories.organiser("second@union.example"), draft)
    assert draft.status == "approved" and draft.approved_by == "second@union.example"
    lifecycle.send(author, draft)
    assert draft.status == "sending"
    actors = [(t.to_status, t.actor) for t in lifecycle.history(draft.id)]
    assert actors == [("approved", "second@union.example"), ("sending", "author@union.example")]


def test_without_the_setting_the_author_may_send_straight_away(draft):
    lifecycle.send(factories.organiser("author@union.example"), draft)
    assert draft.status == "sending"


def test_a_viewer_cannot_approve_or_send(draft):
    viewer = factories.organiser("viewer@union.example", role="viewer")
    with pytest.raises(Forbidden):
        lifecycle.approve(viewer, draft)
    with pytest.raises(Forbidden):
        lifecycle.send(viewer, draft)
    assert draft.status == "draft"


def test_schedule_in_the_future_waits_and_can_be_taken_back(draft):
    when = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    lifecycle.send(factories.organiser(), draft, when)
    assert draft.status == "scheduled" and draft.scheduled_for == when
    assert "for " in lifecycle.history(draft.id)[-1].note
    lifecycle.unschedule(factories.organiser(), draft)
    assert draft.status == "draft" and draft.scheduled_for is None


def test_a_schedule_in_the_past_is_refused_and_sends_nothing(draft):
    with pytest.raises(ValidationError, match="has passed"):
        lifecycle.send(factories.organiser(), draft, utcnow() - timedelta(minutes=5))
    assert draft.status == "draft" and draft.scheduled_for is None


def test_cancel_marks_every_waiting_delivery_skipped(app, draft):
    factories.import_rows([factories.member_row(channels="email;sms") for _ in range(6)])
    lifecycle.send(factories.organiser(), draft)
    fanout.fan_out(draft.id)
    waiting = Delivery.query.filter_by(bulletin_id=draft.id, status="queued").count()
    assert waiting == 12
    lifecycle.pause(factories.organiser(), draft)
    lifecycle.cancel(factories.organiser(), draft)
    statuses = {d.status for d in Delivery.query.filter_by(bulletin_id=draft.id)}
    assert statuses == {"skipped"}
    assert draft.status == "cancelled"
    with pytest.raises(IllegalMove):
        lifecycle.resume(factories.organiser(), draft)


def test_a_sent_bulletin_cannot_be_cancelled(draft):
    bulletin = _at(draft, BulletinStatus.SENT)
    with pytest.raises(IllegalMove, match="sent cannot become cancelled"):
        lifecycle.cancel(factories.organiser(), bulletin)


def test_transitions_are_kept_in_order(draft):
    actor = factories.organiser()
    lifecycle.send(actor, draft)
    lifecycle.pause(actor, draft)
    lifecycle.resume(actor, draft)
    steps = [(t.from_status, t.to_status) for t in lifecycle.history(draft.id)]
    assert steps == [("draft", "sending"), ("sending", "paused"), ("paused", "sending")]
    assert BulletinTransition.query.count() == 3


def test_deliveries_given_back_after_a_cancel_end_skipped(app, draft):
    factories.import_rows([factories.member_row(channels="sms") for _ in range(3)])
    lifecycle.send(factories.organiser(), draft)
    fanout.fan_out(draft.id)
    lifecycle.cancel(factories.organiser(), draft)
    # A batch that was mid-send releases what it had not sent yet.
    Delivery.query.filter_by(bulletin_id=draft.id).update({"status": "queued"})
    db.session.commit()
    assert lifecycle.skip_cancelled_leftovers() == 1
    assert {d.status for d in Delivery.query.filter_by(bulletin_id=draft.id)} == {"skipped"}
    assert lifecycle.skip_cancelled_leftovers() == 0


def test_an_approved_schedule_can_still_be_sent_now(draft):
    draft.partnership.requires_approval = True
    db.session.commit()
    lifecycle.approve(factories.organiser("second@union.example"), draft)
    lifecycle.send(factories.organiser(), draft, utcnow() + timedelta(days=1))
    assert draft.status == "scheduled"
    lifecycle.send(factories.organiser(), draft)
    assert draft.status == "sending"


def test_taking_a_schedule_back_needs_approval_again(draft):
    draft.partnership.requires_approval = True
    db.session.commit()
    lifecycle.approve(factories.organiser("second@union.example"), draft)
    lifecycle.send(factories.organiser(), draft, utcnow() + timedelta(days=1))
    lifecycle.unschedule(factories.organiser(), draft)
    with pytest.raises(ValidationError, match="approve"):
        lifecycle.send(factories.organiser(), draft)


def test_rows_a_killed_worker_left_sending_in_a_cancelled_bulletin_end_skipped(app):
    from commsvc.services.accounts import actors
    from commsvc.services.delivery import claims
    from tests import factories

    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    claims.claim(bulletin.id, ids, utcnow() - timedelta(hours=1))  # then the worker died
    lifecycle.cancel(actors.SYSTEM, db.session.get(Bulletin, bulletin.id))
    assert lifecycle.skip_cancelled_leftovers() == 1
    db.session.expire_all()
    rows = db.session.query(Delivery).filter(Delivery.id.in_(ids)).all()
    assert {(d.status, d.last_error) for d in rows} == {("skipped", "bulletin cancelled")}
