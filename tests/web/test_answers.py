"""The answer page: a GET shows and records nothing; the button's POST records; the
page shows the current answer, says when the question has closed, speaks Welsh."""

from __future__ import annotations

from sqlalchemy import update

from commsvc.extensions import db
from commsvc.models import Answer, Delivery, Member
from commsvc.services.bulletins import questions
from tests import factories
from tests.web.admin_session import csrf


def _asked(count: int = 1):
    bulletin = factories.sending_bulletin(count, channels="email", question=factories.question())
    db.session.execute(
        update(Delivery).where(Delivery.bulletin_id == bulletin.id).values(status="sent")
    )
    db.session.commit()
    member = (
        db.session.query(Member)
        .join(Delivery, Delivery.member_id == Member.id)
        .filter(Delivery.bulletin_id == bulletin.id)
        .first()
    )
    question = questions.question_for(bulletin.id)
    return bulletin, question, member


def test_opening_a_choice_link_selects_it_and_records_nothing(client):
    _bulletin, question, member = _asked()
    link = factories.member_links().answer_url(member.public_id, question.id, 1)
    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Do you accept the pay offer?" in html
    assert 'value="1" checked' in html and 'value="0" checked' not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert db.session.query(Answer).count() == 0


def test_pressing_the_button_records_and_a_change_replaces_it(client):
    _bulletin, question, member = _asked()
    link = factories.member_links().answer_url(member.public_id, question.id, 0)
    token = csrf(client.get(link).get_data(as_text=True))
    saved = client.post(link, data={"csrf_token": token, "choice": "0"})
    assert saved.status_code == 200
    assert "Your answer is recorded: Accept." in saved.get_data(as_text=True)
    client.post(link, data={"csrf_token": token, "choice": "1"})
    rows = db.session.query(Answer).all()
    assert [(r.member_id, r.choice) for r in rows] == [(member.id, 1)]
    again = client.get(link).get_data(as_text=True)  # the link still says Accept
    assert "Your current answer: Reject." in again


def test_a_post_without_the_pages_token_or_a_choice_records_nothing(client):
    _bulletin, question, member = _asked()
    link = factories.member_links().answer_url(member.public_id, question.id, 0)
    assert client.post(link, data={"choice": "0"}).status_code == 400
    token = csrf(client.get(link).get_data(as_text=True))
    assert client.post(link, data={"csrf_token": token, "choice": "7"}).status_code == 400
    assert db.session.query(Answer).count() == 0


def test_a_tampered_link_gets_the_bad_link_page(client):
    _bulletin, question, member = _asked()
    link = factories.member_links().answer_url(member.public_id, question.id, 0)
    assert client.get(link[:-3] + "xyz").status_code == 400


def test_after_the_close_the_page_says_so_and_counts_nothing(client):
    bulletin, question, member = _asked()
    link = factories.member_links().answer_url(member.public_id, question.id, 0)
    token = csrf(client.get(link).get_data(as_text=True))
    questions.close_early(factories.organiser(), bulletin)
    refused = client.post(link, data={"csrf_token": token, "choice": "0"})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "This question closed on" in html and "<form method" not in html
    assert db.session.query(Answer).count() == 0


def test_a_welsh_member_gets_the_page_in_welsh(client):
    _bulletin, question, member = _asked()
    member.language = "cy"
    db.session.commit()
    link = factories.member_links().answer_url(member.public_id, question.id, 0)
    html = client.get(link).get_data(as_text=True)
    assert "Anfon fy ateb" in html and 'lang="cy"' in html
    english = client.get(link + "?lang=en").get_data(as_text=True)
    assert "Send my answer" in english


def test_the_answer_page_says_the_closing_time_in_uk_time(client):
    summer_close = factories.question(closes_at="2099-07-01T16:00:00Z")  # 5pm BST
    bulletin = factories.sending_bulletin(1, channels="email", question=summer_close)
    question = questions.question_for(bulletin.id)
    member = (
        db.session.query(Member)
        .join(Delivery, Delivery.member_id == Member.id)
        .filter(Delivery.bulletin_id == bulletin.id)
        .one()
    )
    link = factories.member_links().answer_url(member.public_id, question.id, 0)
    html = client.get(link).get_data(as_text=True)
    assert "until 5:00pm (BST) on Wednesday 1 July 2099" in html and "UTC" not in html
    welsh = client.get(link + "?lang=cy").get_data(as_text=True)
    assert "17:00 (BST) Dydd Mercher 1 Gorffennaf 2099" in welsh
