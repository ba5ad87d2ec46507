"""Errors on admin forms in plain words, each tied to the field it is about.

The services name fields as the API does (`sms_body is required`); an organiser reads
"Enter the text message" beside the box, and in the error summary at the top of the
page, which links to it (the GOV.UK Design System's error pattern).
"""

from __future__ import annotations

from commsvc.errors import CommsvcError

# The services' field names, and the template parts rendering names, as people say them.
LABELS = {
    "title": "The title",
    "topic": "The topic",
    "channels": "The channels",
    "subject": "The email subject",
    "email_body": "The email",
    "sms_body": "The text message",
    "subject_cy": "The Welsh email subject",
    "email_body_cy": "The Welsh email",
    "sms_body_cy": "The Welsh text message",
    "public": "Publishing on the archive",
    "service_reason": "The reason",
    "scheduled_for": "The time to send",
    "audience": "The audience",
    "name": "The template's name",
}
MISSING = {
    "title": "Enter a title for the bulletin",
    "topic": "Choose a topic: what the bulletin is about",
    "channels": "Choose email, text message or both",
    "subject": "Enter the email's subject",
    "email_body": "Enter the email",
    "sms_body": "Enter the text message",
    "service_reason": "Say why this bulletin is a service message: service topics reach "
    "members who stopped campaign messages",
    "name": "Enter a name for the template",
}
_PARTS = {"subject": "subject", "email body": "email_body", "SMS body": "sms_body"}
# Where a field's error links to: the first input of a group of checkboxes.
TARGETS = {"scheduled_for": "send_date", "audience": "targeting"}


def field_errors(error: CommsvcError, fallback: str = "form") -> dict[str, str]:
    """One error from a service, as {field id: plain message}."""
    field = error.extra.get("field") or _PARTS.get(str(error.extra.get("part", "")))
    detail = error.detail
    if not field and detail.startswith("audience"):
        field = "audience"
    if not field and detail.startswith("question"):
        field = "question_text"
    if not field:
        return {fallback: detail}
    if (
        detail.endswith(" is required")
        or detail.startswith(f"{field} is required")
        or (field == "service_reason" and "is required" in detail)
    ):
        return {TARGETS.get(field, field): MISSING.get(field, detail)}
    if detail.startswith(field):
        detail = LABELS.get(field, "This") + detail[len(field) :]
    elif detail.startswith("audience."):
        detail = "The audience: " + detail.split(" ", 1)[-1]
    return {TARGETS.get(field, field): detail}
