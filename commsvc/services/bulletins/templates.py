"""Reusable message templates with versions.

Saving under an existing name adds a version; versions are never changed, so a
bulletin that records the version it started from (`Bulletin.template_id`) can
always show exactly what that was. Templates are checked like bulletins are.

Templates belong to a region: an organiser or viewer sees and uses only their
regions' templates (another region's answers like a missing one), admins see all.
A template with no region (saved before regions, or by an admin for no region) is
for admins only. A name's versions are kept per region.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, true

from commsvc.errors import NotFound, ValidationError
from commsvc.extensions import db
from commsvc.models import MessageTemplate, Partnership, Region, Topic
from commsvc.services.accounts.actors import Actor, can_see_region, ensure_can_write
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
        raise ValidationError(f"name is required (at most {NAME_LIMIT} characters)", field="name")
    name = name.strip()
    values: dict[str, str] = {}
    for field in FIELDS:
        value = data.get(field)
        if value is None:
            value = ""
        if not isinstance(value, str):  # {} and [] are refused, not read as empty
            raise ValidationError(f"{field} must be text", field=field)
        if len(value) > LIMITS[field]:
            raise ValidationError(
                f"{field} must be at most {LIMITS[field]} characters", field=field
            )
        values[field] = value
    if not any(v.strip() for v in values.values()):
        raise ValidationError("A template needs a subject, an email body or an SMS body.")
    region_id = _region_for(actor, data)
    compiled = rendering.compile_bulletin(
        values["subject"], values["email_body"], values["sms_body"]
    )
    if values["sms_body"].strip():
        try:
            sms_segments.check_limit(compiled.render_sms(rendering.sample_context()))
        except ValidationError as error:
            raise ValidationError(error.detail, field="sms_body") from None
    latest = db.session.scalar(
        select(func.max(MessageTemplate.version)).where(
            MessageTemplate.name == name, _same_region(region_id)
        )
    )
    template = MessageTemplate(
        name=name,
        region_id=region_id,
        version=(latest or 0) + 1,
        created_by=actor.label,
        topic=_remembered_topic(data.get("topic")),
        channels=",".join(_remembered_channels(data.get("channels"))),
        **values,
    )
    db.session.add(template)
    db.session.commit()
    return template


def _remembered_topic(value: Any) -> str:
    """The topic a template suggests; a name that is not a topic is not remembered."""
    if not isinstance(value, str) or not value.strip():
        return ""
    name = value.strip()
    return name if db.session.scalar(select(Topic.id).where(Topic.name == name)) else ""


def _remembered_channels(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    return sorted({c for c in value if c in ("email", "sms")})


def get_template(actor: Actor, template_id: int) -> MessageTemplate:
    """A template version the actor may see; another region's answers like a missing one."""
    template = db.session.get(MessageTemplate, template_id) if 0 < template_id < 2**31 else None
    if template is None or not _may_see(actor, template.region_id):
        raise NotFound(f"There is no template {template_id}.")
    return template


def latest_templates(actor: Actor) -> list[MessageTemplate]:
    """The newest version of each template the actor may see, by name (and region)."""
    newest = (
        select(
            MessageTemplate.name,
            MessageTemplate.region_id,
            func.max(MessageTemplate.version).label("version"),
        )
        .where(_visible(actor))
        .group_by(MessageTemplate.name, MessageTemplate.region_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(MessageTemplate)
            .join(
                newest,
                (MessageTemplate.name == newest.c.name)
                & (MessageTemplate.version == newest.c.version)
                & MessageTemplate.region_id.is_not_distinct_from(newest.c.region_id),
            )
            .order_by(MessageTemplate.name, MessageTemplate.id)
        )
    )


def versions(actor: Actor, name: str) -> list[MessageTemplate]:
    return list(
        db.session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.name == name, _visible(actor))
            .order_by(MessageTemplate.region_id, MessageTemplate.version)
        )
    )


def template_json(template: MessageTemplate) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "version": template.version,
        "region": template.region.name if template.region else None,
        "subject": template.subject,
        "email_body": template.email_body,
        "sms_body": template.sms_body,
        "topic": template.topic or None,
        "channels": [c for c in template.channels.split(",") if c],
        "created_by": template.created_by,
        "created_at": template.created_at.isoformat() + "Z",
    }


def _region_for(actor: Actor, data: dict[str, Any]) -> int | None:
    """The region a new version belongs to: the one named, else the partnership's being
    composed for, else the actor's only region; an admin may leave it empty."""
    name = data.get("region")
    if name not in (None, ""):
        if not isinstance(name, str):
            raise ValidationError("region must be the name of a region")
        region = db.session.scalar(select(Region).where(Region.name == name.strip()))
        if region is None or not can_see_region(actor, region.id):
            raise ValidationError(f"There is no region called {name!r}.")
        return region.id
    partnership_id = data.get("partnership")
    if isinstance(partnership_id, int) and not isinstance(partnership_id, bool):
        partnership = db.session.get(Partnership, partnership_id)
        if partnership is not None and can_see_region(actor, partnership.region_id):
            return partnership.region_id
    if actor.region_ids is None:
        return None
    if len(actor.region_ids) == 1:
        return next(iter(actor.region_ids))
    raise ValidationError("region is required: the name of one of your regions")


def _may_see(actor: Actor, region_id: int | None) -> bool:
    if actor.region_ids is None:
        return True
    return region_id is not None and region_id in actor.region_ids


def _visible(actor: Actor) -> Any:
    if actor.region_ids is None:
        return true()
    return MessageTemplate.region_id.in_(actor.region_ids)


def _same_region(region_id: int | None) -> Any:
    return MessageTemplate.region_id.is_not_distinct_from(region_id)
