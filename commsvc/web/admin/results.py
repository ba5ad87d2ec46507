"""A question's results page (turnout, a bar per choice, breakdowns; live while open)
and its close-early button. Only aggregates: no page lists who answered what."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import login_required

from commsvc import uk_time
from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.services.bulletins import composing, questions, results
from commsvc.web.admin import bp, current_actor, or_404
from commsvc.web.admin.asking import ask_first, confirmed


@bp.get("/admin/bulletins/<int:bulletin_id>/results")
@login_required
def question_results(bulletin_id: int) -> Any:
    found = or_404(lambda: composing.get_bulletin(current_actor(), bulletin_id))
    question = questions.question_for(found.id)
    if question is None:
        abort(404)
    return render_template(
        "admin/results.html",
        bulletin=found,
        results=results.results(found),
        closes_at=question.closed_at,
    )


@bp.get("/admin/bulletins/<int:bulletin_id>/results.json")
@login_required
def question_results_json(bulletin_id: int) -> Any:
    found = or_404(lambda: composing.get_bulletin(current_actor(), bulletin_id))
    if questions.question_for(found.id) is None:
        abort(404)
    return jsonify(results.results(found))


@bp.get("/admin/bulletins/<int:bulletin_id>/close-question")
@login_required
def confirm_close_question(bulletin_id: int) -> Any:
    """Closing early cannot be undone: say what stops, with the turnout so far."""
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    question = questions.question_for(found.id)
    if question is None:
        abort(404)
    if not actor.can_write:
        abort(403)
    if not question.is_open():
        return redirect(url_for("admin.question_results", bulletin_id=found.id))
    so_far = results.results(found)
    return ask_first(
        heading="Close the question now?",
        sentences=(
            f"\u2018{question.text}\u2019 closes now instead of at "
            f"{uk_time.for_people(question.closes_at)}. Answers from then on are not counted, "
            "and members who open their link are told it has closed.",
            f"So far {so_far['responded']:,} of {so_far['eligible']:,} members have answered. "
            "A closed question cannot be opened again.",
        ),
        button="Close the question now",
        action=url_for("admin.close_question", bulletin_id=found.id),
        back=url_for("admin.question_results", bulletin_id=found.id),
    )


@bp.post("/admin/bulletins/<int:bulletin_id>/close-question")
@login_required
def close_question(bulletin_id: int) -> Any:
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    if not actor.can_write:
        abort(403)
    if not confirmed():
        return redirect(url_for("admin.confirm_close_question", bulletin_id=found.id))
    try:
        questions.close_early(actor, found)
    except CommsvcError as error:
        db.session.rollback()
        flash(error.detail, "error")
    else:
        flash("The question is closed: later answers are not counted.", "success")
    return redirect(url_for("admin.question_results", bulletin_id=bulletin_id))
