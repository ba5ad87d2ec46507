"""A bulletin's question: its results (aggregates only) and closing it early."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from commsvc.services.bulletins import composing, questions, results
from commsvc.web.api import bp, current_actor


@bp.get("/bulletins/<int:bulletin_id>/results")
def question_results(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    return jsonify(results.results(bulletin))


@bp.post("/bulletins/<int:bulletin_id>/close-question")
def close_question(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    question = questions.close_early(current_actor(), bulletin)
    return jsonify(questions.question_json(question))
