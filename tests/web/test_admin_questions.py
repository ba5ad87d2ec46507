"""The admin side of a question: compose it, preview it (links that answer for nobody),
read the results, close it; a viewer cannot close it, another region cannot see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from commsvc.models import Answer, Bulletin
from commsvc.services.accounts import auth
from commsvc.services.bulletins import questions
from commsvc.services.members import organisation
from tests import factories
from tests.web.admin_session import csrf, log_in, token_from

ORGANISER = "organiser@union.example"


def test_an_organiser_composes_a_question_and_sees_it_in_the_preview(app, client):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(channels="email;sms") for _ in range(2)])
    auth.create_user(ORGANISER, "a long enough password", "organiser", [factories.REGION])
    log_in(client, ORGANISER)
    page = f"/admin/partnerships/{partnership.id}/compose"
    closes = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    body = factories.bulletin_body(partnership.id)
    answer = client.post(
        page,
        data={
            "csrf_token": token_from(client, page),
            "title": "Pay consultation",
            "topic": "bargaining",
            "channels": ["email", "sms"],
            "subject": body["subject"],
            "email_body": body["email_body"],
            "sms_body": body["sms_body"],
            "question_text": "Do you accept?",
            "question_choices": "Accept\r\nReject\r\n",
            "question_closes_at": closes,
            "question_kind": "consultation",
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    bulletin = Bulletin.query.filter_by(title="Pay consultation").one()
    question = questions.question_for(bulletin.id)
    assert question.choices == ["Accept", "Reject"] and question.text == "Do you accept?"

    preview = client.get(f"/admin/bulletins/{bulletin.id}/preview").get_data(as_text=True)
    assert "Answer at http://127.0.0.1:5000/a/" in preview  # no reply number configured
    link = preview.split("Answer at http://127.0.0.1:5000")[1].split()[0].split("<")[0]
    assert client.get(link).status_code == 404  # the preview's links answer for nobody


def test_a_question_with_one_choice_is_refused_on_the_compose_page(app, client):
    page, body = _compose_page_as_organiser(client)
    answer = client.post(
        page,
        data={
            "csrf_token": token_from(client, page),
            "title": "One choice",
            "topic": "bargaining",
            "channels": ["email"],
            "subject": body["subject"],
            "email_body": body["email_body"],
            "question_text": "Agree?",
            "question_choices": "Yes",
            "question_closes_at": "2099-01-01T10:00",
        },
    )
    assert answer.status_code == 422  # the compose page's errors answer 422, by their field
    text = answer.get_data(as_text=True)
    assert "2 to 6" in text and 'href="#question_text"' in text
    assert Bulletin.query.filter_by(title="One choice").count() == 0


def test_results_page_shows_counts_and_a_viewer_cannot_close(app, client):
    bulletin = factories.sending_bulletin(2, channels="email", question=factories.question())
    question = questions.question_for(bulletin.id)
    auth.create_user(
        "viewer@union.example", "a long enough password", "viewer", factories.home_regions()
    )
    organisation.region_named("Yorkshire")
    auth.create_user("far@union.example", "a long enough password", "organiser", ["Yorkshire"])
    log_in(client, "viewer@union.example")
    html = client.get(f"/admin/bulletins/{bulletin.id}/results").get_data(as_text=True)
    assert "Do you accept the pay offer?" in html and "Close the question now" not in html
    token = csrf(html)
    closing = client.post(
        f"/admin/bulletins/{bulletin.id}/close-question",
        data={"csrf_token": token, "confirmed": "yes"},
    )
    assert closing.status_code == 403
    assert questions.question_for(bulletin.id).closed_early_at is None
    client.post("/logout", data={"csrf_token": token})
    log_in(client, "far@union.example")
    assert client.get(f"/admin/bulletins/{bulletin.id}/results").status_code == 404
    assert Answer.query.filter_by(question_id=question.id).count() == 0


def test_the_compose_page_reads_a_closing_time_in_uk_time_and_refuses_a_skipped_hour(app, client):
    page, body = _compose_page_as_organiser(client)

    def compose(title: str, closes: str):
        return client.post(
            page,
            data={
                "csrf_token": token_from(client, page),
                "title": title,
                "topic": "bargaining",
                "channels": ["email"],
                "subject": body["subject"],
                "email_body": body["email_body"],
                "question_text": "Agree?",
                "question_choices": "Yes\nNo",
                "question_closes_at": closes,
            },
        )

    skipped = compose("Skipped hour", "2099-03-29T01:30")  # the clocks go forward at 1am
    text = skipped.get_data(as_text=True)
    assert skipped.status_code == 422
    assert "01:30 does not exist in the UK on 29 March 2099" in text
    assert 'href="#question_closes_at"' in text and 'id="question_closes_at-error"' in text
    assert Bulletin.query.filter_by(title="Skipped hour").count() == 0

    assert compose("Winter close", "2099-12-01T17:00").status_code == 302
    winter = Bulletin.query.filter_by(title="Winter close").one()
    assert questions.question_for(winter.id).closes_at == datetime(2099, 12, 1, 17, 0)


def _compose_page_as_organiser(client):
    """An organiser logged in, their partnership's compose page and a bulletin body."""
    partnership = factories.partnership()
    factories.topics()
    auth.create_user(ORGANISER, "a long enough password", "organiser", [factories.REGION])
    log_in(client, ORGANISER)
    return f"/admin/partnerships/{partnership.id}/compose", factories.bulletin_body(partnership.id)
