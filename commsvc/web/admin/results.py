"""A question's results page (turnout, a bar per choice, breakdowns; live while open)
and its close-early button. Only aggregates: no page lists who answered what."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import login_required

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.services.bulletins import composing, questions, results
from commsvc.web.admin import bp, current_actor, or_404


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


@bp.post("/admin/bulletins/<int:bulletin_id>/close-question")
@login_required
def close_question(bulletin_id: int) -> Any:
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    if not actor.can_write:
        abort(403)
    try:
        questions.close_early(actor, found)
    except CommsvcError as error:
        db.session.rollback()
        flash(error.detail, "error")
    else:
        flash("The question is closed: later answers are not counted.", "success")
    return redirect(url_for("admin.question_results", bulletin_id=bulletin_id))
