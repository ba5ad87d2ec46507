"""Questions in-process: what the API accepts, what members get, how answers count."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from commsvc.extensions import db
from commsvc.models import Answer, Delivery, Member, Question
from commsvc.models.base import utcnow
from commsvc.services.bulletins import questions, results
from commsvc.services.members import subject_rights
from tests import factories
from workers.gateways import email_gateway, sms_gateway
from workers.sending import send_batch


@pytest.mark.parametrize(
    ("question", "detail"),
    [
        ({"text": "Q?", "choices": ["Only one"]}, "2 to 6"),
        ({"choices": [str(n) + "x" for n in range(7)]}, "2 to 6"),
        ({"choices": ["Yes", "yes"]}, "different"),
        ({"choices": ["1", "2"]}, "cannot be a number"),
        ({"choices": ["Continue", "Stop"]}, "stops or starts texts"),
        ({"closes_at": "2020-01-01T00:00:00Z"}, "future"),
        ({"closes_at": "next tuesday"}, "ISO 8601"),
        ({"kind": "poll"}, "consultation or rsvp"),
        ({"kind": "rsvp"}, "event"),
        ({"text": ""}, "question.text"),
        ({"colour": "red"}, "unknown question fields"),
    ],
)
def test_a_bad_question_gets_422_and_saves_no_bulletin(client, question, detail):
    """422 {error: invalid}, as for every other field of POST /bulletins."""
    partnership = factories.partnership()
    factories.topics()
    headers = factories.api_key()
    body = factories.bulletin_body(partnership.id, question=factories.question(**question))
    answer = client.post("/api/v1/bulletins", json=body, headers=headers)
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"] == "invalid"
    assert detail in answer.get_json()["detail"]
    assert client.get("/api/v1/bulletins", headers=headers).get_json()["items"] == []


def test_an_rsvp_is_saved_with_its_event(client):
    partnership = factories.partnership()
    factories.topics()
    headers = factories.api_key()
    question = factories.question(
        text="Will you come to the branch meeting?",
        choices=["Yes", "No", "Maybe"],
        kind="rsvp",
        event={"at": "2030-02-03T18:30:00Z", "place": "Salford Civic Centre"},
    )
    created = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(partnership.id, question=question),
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    saved = created.get_json()["question"]
    assert saved["kind"] == "rsvp" and saved["choices"] == ["Yes", "No", "Maybe"]
    assert saved["event"] == {"at": "2030-02-03T18:30:00Z", "place": "Salford Civic Centre"}
    assert saved["open"] is True


def test_without_a_reply_number_the_text_says_how_to_answer_by_link(app, sms_sink):
    bulletin = factories.sending_bulletin(1, channels="sms", question=factories.question())
    send_batch(bulletin.id, bulletin.deliveries_by_channel["sms"], "sms", sms_gateway())
    (text,) = sms_sink.messages
    assert text["from"] == "UNION"
    assert "Reply 1" not in text["body"]
    assert "Answer at http://127.0.0.1:5000/a/" in text["body"]


def test_with_a_reply_number_texts_invite_a_reply_from_that_number_in_welsh_too(app, sms_sink):
    app.config["COMMSVC_SMS_REPLY_FROM"] = "+447700900999"
    bulletin = factories.sending_bulletin(2, channels="sms", question=factories.question())
    welsh = db.session.get(Delivery, bulletin.deliveries_by_channel["sms"][1]).member_id
    db.session.execute(update(Member).where(Member.id == welsh).values(language="cy"))
    db.session.commit()
    send_batch(bulletin.id, bulletin.deliveries_by_channel["sms"], "sms", sms_gateway())
    bodies = sorted(t["body"] for t in sms_sink.messages)
    assert {t["from"] for t in sms_sink.messages} == {"+447700900999"}
    assert any(
        b.endswith("Reply 1 for Accept, 2 for Reject\nReply STOP to opt out") for b in bodies
    )
    assert any("Atebwch 1 am Accept, 2 am Reject" in b for b in bodies)


def test_the_email_has_one_link_per_choice_named_by_the_choice(app, email_sink):
    bulletin = factories.sending_bulletin(1, channels="email", question=factories.question())
    send_batch(bulletin.id, bulletin.deliveries_by_channel["email"], "email", email_gateway())
    (message,) = email_sink.parsed()
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Do you accept the pay offer?" in text
    assert "\nAccept: http://127.0.0.1:5000/a/" in text
    assert "\nReject: http://127.0.0.1:5000/a/" in text
    assert text.index("Reject: ") < text.index("Choose what you receive")
    assert ">Accept</a>" in html and ">Reject</a>" in html
    assert "COMMSVCQUESTION" not in text + html


def test_an_email_without_a_question_has_no_trace_of_one(app, email_sink):
    bulletin = factories.sending_bulletin(1, channels="email")
    send_batch(bulletin.id, bulletin.deliveries_by_channel["email"], "email", email_gateway())
    (message,) = email_sink.parsed()
    whole = message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()
    assert "COMMSVCQUESTION" not in whole and "/a/" not in whole


def _sent_consultation(count: int, **question):
    bulletin = factories.sending_bulletin(
        count, channels="email", question=factories.question(**question)
    )
    db.session.execute(
        update(Delivery).where(Delivery.bulletin_id == bulletin.id).values(status="sent")
    )
    db.session.commit()
    members = (
        db.session.query(Member)
        .join(Delivery, Delivery.member_id == Member.id)
        .filter(Delivery.bulletin_id == bulletin.id)
        .order_by(Member.id)
        .all()
    )
    return bulletin, questions.question_for(bulletin.id), members


def test_a_changed_answer_counts_once_and_answers_after_the_close_are_refused(app):
    bulletin, question, members = _sent_consultation(3)
    questions.record_answer(question, members[0], 0, "link")
    questions.record_answer(question, members[0], 1, "link")
    questions.record_answer(question, members[1], 1, "sms")
    counted = results.results(bulletin)
    assert counted["responded"] == 2 and counted["eligible"] == 3
    assert counted["choices"] == {"Accept": 0, "Reject": 2}
    assert counted["turnout"] == round(2 / 3, 4)

    question.closes_at = utcnow()  # the close passes: the answers above came before it
    db.session.commit()
    with pytest.raises(questions.QuestionClosed):
        questions.record_answer(question, members[2], 0, "link")
    with pytest.raises(questions.QuestionClosed):
        questions.record_answer(question, members[0], 0, "link")
    assert results.results(bulletin)["choices"] == {"Accept": 0, "Reject": 2}


def test_small_breakdown_cells_are_hidden_and_cannot_be_worked_back(app):
    bulletin, question, members = _sent_consultation(16)
    # 12 health members, 4 in local government (also another employer).
    council = factories.member(
        service_group="local_government", employer=factories.S31_EMPLOYERS[1]
    )
    local = [m.id for m in members[12:]]
    db.session.execute(
        update(Member)
        .where(Member.id.in_(local))
        .values(service_group="local_government", employer_id=council.employer_id)
    )
    db.session.commit()
    for member in members[:9]:
        questions.record_answer(question, member, 0, "link")  # 9 health Accept
    for member in members[9:12]:
        questions.record_answer(question, member, 1, "link")  # 3 health Reject
    for member in members[12:]:
        questions.record_answer(question, member, 1, "link")  # 4 local government Reject
    counted = results.results(bulletin)
    assert counted["choices"] == {"Accept": 9, "Reject": 7}
    groups = counted["by_service_group"]
    assert groups["health"]["Accept"] == 9
    assert groups["health"]["Reject"] is None and groups["local_government"]["Reject"] is None
    # One hidden Accept cell would be 9 - 9 = 0 from the total: its partner hides too.
    assert groups["local_government"]["Accept"] == 0
    employers = counted["by_employer"]
    assert employers[factories.S31_EMPLOYERS[0]]["Reject"] is None
    assert all(
        n is None or n == 0 or n >= 5 for cells in employers.values() for n in cells.values()
    )


def test_the_members_own_export_shows_their_answers_and_erasure_removes_them(app):
    bulletin, question, members = _sent_consultation(6)
    for member in members:
        questions.record_answer(question, member, 0, "link")
    exported = subject_rights.export_member(members[0])
    assert exported["answers"][0]["answer"] == "Accept"
    assert exported["answers"][0]["question"] == "Do you accept the pay offer?"
    subject_rights.erase_member(members[0])
    assert db.session.query(Answer).filter_by(member_id=members[0].id).count() == 0
    assert results.results(bulletin)["responded"] == 5


def test_the_reminder_audience_is_exactly_those_who_got_it_and_did_not_answer(app, client):
    bulletin, question, members = _sent_consultation(5)
    db.session.execute(
        update(Delivery)
        .where(Delivery.bulletin_id == bulletin.id, Delivery.member_id == members[4].id)
        .values(status="bounced")
    )
    db.session.commit()
    questions.record_answer(question, members[0], 0, "link")
    questions.record_answer(question, members[1], 1, "link")
    headers = factories.api_key()
    body = factories.bulletin_body(
        bulletin.partnership_id, title="Reminder", audience={"not_answered": bulletin.id}
    )
    created = client.post("/api/v1/bulletins", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["audience_size"] == 2  # members 2 and 3; 4's email bounced
    bad = factories.bulletin_body(bulletin.partnership_id, audience={"not_answered": 999999})
    refused = client.post("/api/v1/bulletins", json=bad, headers=headers)
    assert refused.status_code == 422 and "not_answered" in refused.get_json()["detail"]


def test_the_results_api_and_closing_early(app, client):
    bulletin, question, members = _sent_consultation(2)
    questions.record_answer(question, members[0], 1, "link")
    headers = factories.api_key()
    got = client.get(f"/api/v1/bulletins/{bulletin.id}/results", headers=headers).get_json()
    assert got["responded"] == 1 and got["choices"] == {"Accept": 0, "Reject": 1}
    assert got["by_service_group"] == {"health": {"Accept": 0, "Reject": None}}
    closed = client.post(f"/api/v1/bulletins/{bulletin.id}/close-question", headers=headers)
    assert closed.status_code == 200 and closed.get_json()["open"] is False
    with pytest.raises(questions.QuestionClosed):
        questions.record_answer(db.session.get(Question, question.id), members[1], 0, "link")
    plain = factories.sending_bulletin(1)
    no_question = client.get(f"/api/v1/bulletins/{plain.id}/results", headers=headers)
    assert no_question.status_code == 422


def test_a_reply_number_must_be_a_number_members_can_reply_to(tmp_path):
    from commsvc.config import load_settings
    from commsvc.errors import ConfigError

    env = {"COMMSVC_SECRET_KEY": "k" * 32, "COMMSVC_WEBHOOK_SECRET": "w"}
    assert load_settings(tmp_path, env).sms_reply_from == ""
    given = {**env, "COMMSVC_SMS_REPLY_FROM": "+447700900999"}
    assert load_settings(tmp_path, given).sms_reply_from == "+447700900999"
    with pytest.raises(ConfigError, match="COMMSVC_SMS_REPLY_FROM"):
        load_settings(tmp_path, {**env, "COMMSVC_SMS_REPLY_FROM": "UNION"})
