"""The compose form: what the organiser typed, as the services' bulletin data, and the
plain-word errors for everything missing at once (not one at a time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Bulletin, Topic
from commsvc.web.admin.form_errors import MISSING
from commsvc.web.ids import parse_id

TARGETING = ("branches", "employers", "workplaces", "service_groups")
WELSH = ("subject_cy", "email_body_cy", "sms_body_cy")  # optional: the Welsh version


def read(form: Any, partnership_id: int) -> dict[str, Any]:
    """The posted form as `composing` takes it."""
    data: dict[str, Any] = {
        "partnership": partnership_id,
        "title": form.get("title", ""),
        "topic": form.get("topic", ""),
        "channels": form.getlist("channels"),
        "subject": form.get("subject", ""),
        "email_body": form.get("email_body", ""),
        "sms_body": form.get("sms_body", ""),
        **{field: form.get(field, "") for field in WELSH},
        "public": form.get("public") == "on",
        "service_reason": form.get("service_reason", ""),
        "audience": {name: form.getlist(name) for name in TARGETING if form.getlist(name)},
    }
    chosen = parse_id(form.get("template", ""))
    if chosen is not None:
        data["template"] = chosen
    return data


def missing(data: dict[str, Any]) -> dict[str, str]:
    """Every required answer left empty, in the order of the page."""
    channels = data["channels"]
    topic = db.session.scalar(select(Topic).where(Topic.name == data["topic"]))
    is_service = topic is not None and topic.kind == "service"
    templated = "template" in data  # a template fills in the words left empty

    def empty(field: str) -> bool:
        return not str(data.get(field, "")).strip()

    checks = (
        ("title", empty("title")),
        ("topic", empty("topic")),
        ("service_reason", is_service and empty("service_reason")),
        ("channels", not channels),
        ("subject", "email" in channels and not templated and empty("subject")),
        ("email_body", "email" in channels and not templated and empty("email_body")),
        ("sms_body", "sms" in channels and not templated and empty("sms_body")),
    )
    return {field: MISSING[field] for field, is_missing in checks if is_missing}


def from_bulletin(bulletin: Bulletin) -> dict[str, Any]:
    """A saved bulletin as the form shows it, for editing."""
    return {
        "title": bulletin.title,
        "topic": bulletin.topic.name,
        "channels": list(bulletin.channels),
        "subject": bulletin.subject,
        "email_body": bulletin.email_body,
        "sms_body": bulletin.sms_body,
        **{field: getattr(bulletin, field) or "" for field in WELSH},
        "public": "on" if bulletin.public else "",
        "service_reason": bulletin.service_reason,
        **{name: list(bulletin.audience.get(name, [])) for name in TARGETING},
    }


def from_template(template: Any) -> dict[str, Any]:
    """A template's words, topic and channels as the form shows them."""
    return {
        "title": "",
        "topic": template.topic,
        "channels": [c for c in template.channels.split(",") if c] or ["email", "sms"],
        "subject": template.subject,
        "email_body": template.email_body,
        "sms_body": template.sms_body,
        "template": str(template.id),
    }


def from_post(form: Any) -> dict[str, Any]:
    """The posted form, shown back as typed (lists stay lists)."""
    shown: dict[str, Any] = {key: form.get(key, "") for key in form}
    for name in ("channels", *TARGETING):
        shown[name] = form.getlist(name)
    return shown
