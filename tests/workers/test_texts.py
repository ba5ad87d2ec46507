"""What a member's phone gets, through the generic SMS gateway: a way to stop texts that
works from that sender, and nothing sent to a number that cannot receive texts."""

from __future__ import annotations

from commsvc.extensions import db
from commsvc.models import Delivery, Member
from tests import factories
from tests.web.admin_session import csrf
from workers.gateways import sms_gateway
from workers.sending import send_batch

REPLY_NUMBER = "+447911000999"


def send_texts(count: int = 1) -> tuple[int, list[int]]:
    bulletin = factories.sending_bulletin(count, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    send_batch(bulletin.id, ids, "sms", sms_gateway())
    return bulletin.id, ids


def member_of(delivery_id: int) -> Member:
    db.session.expire_all()
    return db.session.get(Member, db.session.get(Delivery, delivery_id).member_id)


def test_without_a_reply_number_a_text_ends_with_a_link_that_stops_texts(app, client, sms_sink):
    app.config["COMMSVC_SMS_REPLY_FROM"] = ""
    _bulletin, (delivery_id,) = send_texts()
    (text,) = sms_sink.messages
    assert text["from"] == "UNION"
    assert "STOP" not in text["body"]
    last = text["body"].splitlines()[-1]
    assert last.startswith("Opt out: http://127.0.0.1:5000/t/")
    link = last.removeprefix("Opt out: http://127.0.0.1:5000")
    assert len(link) < 40  # short: a text pays for every character

    page = client.get(link)  # a phone fetching a preview of the link changes nothing
    assert page.status_code == 200 and "Stop texts from us?" in page.get_data(as_text=True)
    assert member_of(delivery_id).sms_enabled is True
    stopped = client.post(link, data={"csrf_token": csrf(page.get_data(as_text=True))})
    assert "Texts are off" in stopped.get_data(as_text=True)
    assert member_of(delivery_id).sms_enabled is False

    sms_sink.messages.clear()
    member = member_of(delivery_id)
    next_bulletin, _ids = send_texts()  # the next bulletin to the same partnership
    row = db.session.query(Delivery).filter_by(bulletin_id=next_bulletin, member_id=member.id)
    assert row.one().status == "skipped"
    assert member.mobile not in {m["to"] for m in sms_sink.messages}
    assert len(sms_sink.messages) == 1  # the new member's text went


def test_a_tampered_opt_out_link_changes_nothing(app, client, sms_sink):
    _bulletin, (delivery_id,) = send_texts()
    link = (
        sms_sink.messages[0]["body"].splitlines()[-1].removeprefix("Opt out: http://127.0.0.1:5000")
    )
    forged = link[:-1] + ("A" if link[-1] != "A" else "B")
    assert client.get(forged).status_code == 400
    assert client.post(forged, data={}).status_code == 400
    assert member_of(delivery_id).sms_enabled is True


def test_with_a_reply_number_texts_come_from_it_and_say_reply_stop(app, sms_sink):
    app.config["COMMSVC_SMS_REPLY_FROM"] = REPLY_NUMBER
    send_texts(2)
    assert [m["from"] for m in sms_sink.messages] == [REPLY_NUMBER, REPLY_NUMBER]
    assert all(m["body"].endswith("\nReply STOP to opt out") for m in sms_sink.messages)


def test_a_stored_landline_fails_with_the_reason_and_is_never_handed_to_the_gateway(app, sms_sink):
    bulletin = factories.sending_bulletin(2, channels="sms")
    landline, mobile = bulletin.deliveries_by_channel["sms"]
    # Stored before the import refused landlines (the import no longer lets one in).
    member_of(landline).mobile = "+442079460018"
    db.session.commit()
    send_batch(bulletin.id, [landline, mobile], "sms", sms_gateway())
    db.session.expire_all()
    failed, sent = (db.session.get(Delivery, i) for i in (landline, mobile))
    assert failed.status == "permanent_failure"
    assert "cannot receive texts" in failed.last_error and "landline" in failed.last_error
    assert sent.status == "sent"
    assert [m["to"] for m in sms_sink.messages] == [member_of(mobile).mobile]
