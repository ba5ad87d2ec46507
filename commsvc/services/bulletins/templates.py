"""Reusable message templates with versions.

Saving under an existing name adds a version; versions are never changed, so a
bulletin that records the version it started from (`Bulletin.template_id`) can
always show exactly what that was. Templates are checked like bulletins are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from commsvc.errors import NotFound, ValidationError
from commsvc.extensions import db
from commsvc.models import MessageTemplate
from commsvc.services.accounts.actors import Actor, ensure_can_write
from commsvc.services.bulletins import rendering, sms_segments

NAME_LIMIT = 200
FIELDS = ("subject", "email_body", "sms_body")
LIMITS = {"subject": 300, "email_body": 100_000, "sms_body": 1_600}


def save_template(actor: Actor, data: Any) -> MessageTemplate:
    """Check and save a template; an existing name gets its next version."""
    ensure_can_write(actor)
    if not isinstance(data, dict):
        raise ValidationError("The body must be a JSON object.")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_LIMIT:
        raise ValidationError(f"name is required (at most {NAME_LIMIT} characters)")
    name = name.strip()
    values: dict[str, str] = {}
    for field in FIELDS:
        value = data.get(field)
        if value is None:
            value = ""
        if not isinstance(value, str):  # {} and [] are refused, not read as empty
            raise ValidationError(f"{field} must be text")
        if len(value) > LIMITS[field]:
            raise ValidationError(f"{field} must be at most {LIMITS[field]} characters")
        values[field] = value
    if not any(v.strip() for v in values.values()):
        raise ValidationError("A template needs a subject, an email body or an SMS body.")
    compiled = rendering.compile_bulletin(
        values["subject"], values["email_body"], values["sms_body"]
    )
    if values["sms_body"].strip():
        sms_segments.check_limit(compiled.render_sms(rendering.sample_context()))
    latest = db.session.scalar(
        select(func.max(MessageTemplate.version)).where(MessageTemplate.name == name)
    )
    template = MessageTemplate(
        name=name, version=(latest or 0) + 1, created_by=actor.label, **values
    )
    db.session.add(template)
    db.session.commit()
    return template


def get_template(template_id: int) -> MessageTemplate:
    template = db.session.get(MessageTemplate, template_id)
    if template is None:
        raise NotFound(f"There is no template {template_id}.")
    return template


def latest_templates() -> list[MessageTemplate]:
    """The newest version of each template, by name."""
    newest = (
        select(MessageTemplate.name, func.max(MessageTemplate.version).label("version"))
        .group_by(MessageTemplate.name)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(MessageTemplate)
            .join(
                newest,
                (MessageTemplate.name == newest.c.name)
                & (MessageTemplate.version == newest.c.version),
            )
            .order_by(MessageTemplate.name)
        )
    )


def versions(name: str) -> list[MessageTemplate]:
    return list(
        db.session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.name == name)
            .order_by(MessageTemplate.version)
        )
    )


def template_json(template: MessageTemplate) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "version": template.version,
        "subject": template.subject,
        "email_body": template.email_body,
        "sms_body": template.sms_body,
        "created_by": template.created_by,
        "created_at": template.created_at.isoformat() + "Z",
    }
