"""The answer page of a bulletin's question, reached only through a member's signed link.

GET shows the question with the link's choice selected and records nothing (mail
scanners open every link); only the POST of the page's button records an answer. The
page shows the member's current answer, lets them change it until the close, and says
when the question has closed. English and Welsh, like the preference centre.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError as FormError

from commsvc.errors import CommsvcError
from commsvc.extensions import csrf, db
from commsvc.models import Bulletin, Question
from commsvc.services.bulletins import links, questions
from commsvc.services.members import preferences
from commsvc.uk_time import for_people
from commsvc.web.preferences import bad_link_page, language_switch
from commsvc.web.preferences.language import member_page

bp = Blueprint("answers", __name__)
member_page(bp)
LINK_CHANNEL = "link"  # answers given on this page, whichever message carried the link


@bp.route("/a/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked below, after the link, so a bad link gets the bad-link page
def answer(token: str) -> Any:
    try:
        public_id, question_id, selected = links.read_answer_token(
            current_app.config["SECRET_KEY"], token
        )
    except links.LinkError as bad:
        return bad_link_page(bad)
    member = preferences.member_by_public_id(public_id)
    question = db.session.get(Question, question_id) if 0 < question_id < 2**31 else None
    if member is None or question is None:
        missing = links.LinkError("This link is not valid.")
        missing.http_status = 404
        return bad_link_page(missing)
    g.member_language = member.language
    g.member_region_id = member.region_id
    saved, problem, status = False, None, 200
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except (CSRFError, FormError):
            stale = links.LinkError(_("This page was open too long. Reload it and try again."))
            return bad_link_page(stale)
        raw = request.form.get("choice", "")
        selected = int(raw) if raw.isdigit() else links.NO_CHOICE
        try:
            questions.record_answer(question, member, selected, LINK_CHANNEL)
            saved = True
        except questions.QuestionClosed:
            db.session.rollback()
            status = 409
        except CommsvcError:
            db.session.rollback()
            problem, status = _("Choose one of the answers."), 400
    current = questions.current_answer(question, member)
    language = str(get_locale() or "en")
    if selected == links.NO_CHOICE and current is not None:
        selected = current.choice
    return render_template(
        "answers/question.html",
        question=question,
        bulletin=db.session.get(Bulletin, question.bulletin_id),
        token=token,
        selected=selected,
        current=question.choices[current.choice] if current is not None else None,
        is_open=question.is_open(),
        closes=for_people(question.closed_at, language),
        event_at=for_people(question.event_at, language) if question.event_at else None,
        saved=saved,
        problem=problem,
        **language_switch(),
    ), status
