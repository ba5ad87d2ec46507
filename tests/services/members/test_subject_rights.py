"""Subject rights: a member's copy of their data, and erasure that keeps the counts."""

from __future__ import annotations

from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, Member
from commsvc.services.members import preferences, subject_rights, suppression
from tests import factories


def delivered_bulletin(member, partnership):
    from commsvc.models import Topic

    bulletin = Bulletin(
        partnership_id=partnership.id,
        topic_id=db.session.query(Topic).first().id,
        title="Pay offer",
        channels=["email", "sms"],
        subject="s",
        email_body="b",
        sms_body="t",
        status="sent",
    )
    db.session.add(bulletin)
    db.session.flush()
    for channel in ("email", "sms"):
        db.session.add(
            Delivery(
                bulletin_id=bulletin.id, member_id=member.id, channel=channel, status="delivered"
            )
        )
    db.session.commit()
    return bulletin


def test_export_holds_profile_preferences_consent_and_deliveries(app):
    partnership = factories.partnership()
    factories.topics("bargaining", "campaigns")
    member = factories.member(first_name="Dai", topics="bargaining")
    preferences.update_choices(
        member, set(), email=True, sms=False, stop_everything=False, source="preference_centre"
    )
    delivered_bulletin(member, partnership)
    data = subject_rights.export_member(member)
    assert data["profile"]["first_name"] == "Dai"
    assert data["profile"]["email"] == member.email
    assert data["preferences"]["sms"] is False
    assert {t["name"]: t["subscribed"] for t in data["preferences"]["topics"]} == {
        "bargaining": False,
        "campaigns": False,
    }
    assert [c["source"] for c in data["consent_history"]] == ["preference_centre", "import"]
    assert sorted((d["bulletin"], d["channel"]) for d in data["deliveries"]) == [
        ("Pay offer", "email"),
        ("Pay offer", "sms"),
    ]


def test_erasure_wipes_personal_data_keeps_suppression_and_delivery_counts(app):
    partnership = factories.partnership()
    factories.topics()
    member = factories.member(first_name="Dai", email="dai@example.org", mobile="07800 600001")
    bulletin = delivered_bulletin(member, partnership)
    subject_rights.erase_member(member)
    db.session.expire_all()
    erased = db.session.get(Member, member.id)
    assert (erased.first_name, erased.email, erased.mobile) == ("", None, None)
    assert erased.membership_number.startswith("erased-") and erased.erased_at
    assert suppression.is_suppressed("email", "dai@example.org")
    assert suppression.is_suppressed("sms", "+447800600001")
    assert db.session.query(Delivery).filter_by(bulletin_id=bulletin.id).count() == 2
    # Imported again later, the address stays blocked.
    factories.import_rows([factories.member_row(email="dai@example.org", mobile="")])
    assert suppression.is_suppressed("email", "DAI@example.org")


def test_erasure_scrubs_the_address_from_failure_texts_in_reports_and_exports(app):
    import hashlib

    from commsvc.models import DeliveryAttempt, Suppression
    from commsvc.services.bulletins import reports

    partnership = factories.partnership()
    factories.topics()
    member = factories.member(email="Dai.Jones@example.org", mobile="07800 600001")
    bulletin = delivered_bulletin(member, partnership)
    email_row, sms_row = sorted(
        db.session.query(Delivery).filter_by(bulletin_id=bulletin.id), key=lambda d: d.channel
    )
    email_row.status, sms_row.status = "bounced", "permanent_failure"
    email_row.last_error = "550 5.1.1 <dai.jones@example.org>: Recipient address rejected"
    sms_row.last_error = "number +447800600001 is unreachable"
    db.session.add_all(
        [
            DeliveryAttempt(
                delivery_id=email_row.id, outcome="bounced", reason="user Dai.Jones@Example.org"
            ),
            DeliveryAttempt(
                delivery_id=sms_row.id, outcome="failed", reason="07800 600001: not in service"
            ),
        ]
    )
    db.session.commit()
    subject_rights.erase_member(member)
    db.session.expire_all()
    texts = [d.last_error for d in db.session.query(Delivery)] + [
        a.reason for a in db.session.query(DeliveryAttempt)
    ]
    assert texts and all("[erased address]" in t for t in texts), texts
    csv_text = "".join(reports.deliveries_csv(bulletin))
    assert "[erased address]" in csv_text
    everything = " ".join(texts) + csv_text
    for trace in ("dai.jones", "Dai.Jones", "7800600001", "7800 600001"):
        assert trace not in everything
    assert "Recipient address rejected" in everything  # the reason itself stays
    # Kept as keyed hashes: the plain SHA-256 of the address is not what is stored.
    stored = {s.address_hash for s in db.session.query(Suppression)}
    plain = hashlib.sha256(b"email:dai.jones@example.org").hexdigest()
    assert plain not in stored and len(stored) == 2
    assert suppression.is_suppressed("email", "dai.jones@example.org")


def test_suppressions_stored_as_plain_sha256_keep_working_and_become_keyed(app):
    import hashlib

    from commsvc.models import Suppression

    plain = hashlib.sha256(b"sms:+447800600002").hexdigest()
    db.session.add(Suppression(channel="sms", address_hash=plain, reason="erasure"))
    db.session.commit()
    assert suppression.is_suppressed("sms", "+447800600002")
    assert not suppression.is_suppressed("sms", "+447800600003")
    suppression.suppress("sms", "+447800600002", "stop")
    db.session.commit()
    (row,) = db.session.query(Suppression).all()
    assert row.address_hash != plain and row.reason == "erasure"
    assert suppression.is_suppressed("sms", "+447800600002")
