"""The compose form's optional question, as the API's `question` object.

Kept apart from compose.py (whose flow is being reworked): compose calls
`question_from_form` and includes `admin/_question_fields.html`, nothing more.
The admin's datetime-local fields carry no zone; they are read as UK time, as the
page says (`commsvc/uk_time.py`), and handed on as UTC.
"""

from __future__ import annotations

from typing import Any

from commsvc import uk_time
from commsvc.errors import ValidationError


def question_from_form(form: Any) -> dict[str, Any] | None:
    """None when no question was written; otherwise what `questions.clean_question` checks."""
    text = (form.get("question_text") or "").strip()
    if not text:
        return None
    choices = [line.strip() for line in (form.get("question_choices") or "").splitlines()]
    question: dict[str, Any] = {
        "text": text,
        "choices": [c for c in choices if c],
        "closes_at": _as_utc(form.get("question_closes_at") or "", "question_closes_at"),
        "kind": form.get("question_kind") or "consultation",
    }
    if question["kind"] == "rsvp":
        question["event"] = {
            "at": _as_utc(form.get("question_event_at") or "", "question_event_at"),
            "place": form.get("question_event_place") or "",
        }
    return question


def _as_utc(local: str, field: str) -> str:
    """A UK time from the page as the API's UTC ("...Z"); an empty or unreadable value
    is handed on as it is, for the question's own checks to name."""
    if not local.strip():
        return local
    try:
        return uk_time.parse_local(local, field).isoformat() + "Z"
    except ValidationError as error:
        if "does not exist" in error.detail:
            raise
        return local
