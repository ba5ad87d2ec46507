"""The compose form's optional question, as the API's `question` object.

Kept apart from compose.py (whose flow is being reworked): compose calls
`question_from_form` and includes `admin/_question_fields.html`, nothing more.
The admin's datetime-local fields carry no zone; they are read as UTC, as the
page says.
"""

from __future__ import annotations

from typing import Any


def question_from_form(form: Any) -> dict[str, Any] | None:
    """None when no question was written; otherwise what `questions.clean_question` checks."""
    text = (form.get("question_text") or "").strip()
    if not text:
        return None
    choices = [line.strip() for line in (form.get("question_choices") or "").splitlines()]
    question: dict[str, Any] = {
        "text": text,
        "choices": [c for c in choices if c],
        "closes_at": form.get("question_closes_at") or "",
        "kind": form.get("question_kind") or "consultation",
    }
    if question["kind"] == "rsvp":
        question["event"] = {
            "at": form.get("question_event_at") or "",
            "place": form.get("question_event_place") or "",
        }
    return question
