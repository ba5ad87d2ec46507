"""Composing bulletins: check what an organiser wrote, save it, show it back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from commsvc import tracking
from commsvc.errors import Conflict, NotFound, TemplateError, ValidationError
from commsvc.extensions import db
from commsvc.models import Bulletin, Topic
from commsvc.models.base import utcnow
from commsvc.services.accounts import audit
from commsvc.services.accounts.actors import Actor, can_see_region, ensure_can_write
from commsvc.services.bulletins import (
    audience,
    lifecycle,
    questions,
    rendering,
    sms_segments,
    templates,
)
from commsvc.services.members import organisation
from commsvc.statuses import BulletinStatus, Channel, DeliveryStatus

TITLE_LIMIT = 200
SUBJECT_LIMIT = 300
BODY_LIMIT = 100_000
SMS_BODY_LIMIT = 1_600
REASON_LIMIT = 500
DUPLICATE_WINDOW = timedelta(hours=24)
EDITABLE = (BulletinStatus.DRAFT, BulletinStatus.APPROVED)
_UNSENT = (BulletinStatus.DRAFT, BulletinStatus.APPROVED, BulletinStatus.SCHEDULED)
_STARTED = (BulletinStatus.SENDING, BulletinStatus.PAUSED, BulletinStatus.SENT)


def create_bulletin(actor: Actor, data: Any) -> Bulletin:
    """Validate a bulletin from the API or the admin and save it as a draft."""
    ensure_can_write(actor)
    values = _checked(actor, data)
    question = questions.clean_question(data.get("question"))
    bulletin = Bulletin(created_by=actor.label, **values)
    db.session.add(bulletin)
    db.session.flush()
    if question is not None:
        questions.attach(bulletin, question)
    audit.record(
        actor.label,
        "bulletin.create",
        f"bulletin {bulletin.id}",
        title=bulletin.title,
        partnership=bulletin.partnership_id,
        service_reason=bulletin.service_reason or None,
    )
    db.session.commit()
    return bulletin


def update_bulletin(actor: Actor, bulletin: Bulletin, data: Any) -> Bulletin:
    """Change a draft (or an approved bulletin, which goes back to draft: an approval
    covers the words that were approved, not new ones). Scheduled or started: refused."""
    ensure_can_write(actor)
    if bulletin.status not in EDITABLE:
        raise Conflict(
            f"This bulletin is {bulletin.status}; only a draft can be changed"
            + (" (take the schedule back first)." if bulletin.status == "scheduled" else ".")
        )
    if isinstance(data, dict):
        data = {**data, "partnership": bulletin.partnership_id}
    values = _checked(actor, data)
    for name, value in values.items():
        setattr(bulletin, name, value)
    if bulletin.status == BulletinStatus.APPROVED:
        lifecycle.move(bulletin, BulletinStatus.DRAFT, actor.label, "changed: approval withdrawn")
        bulletin.approved_by = None
    audit.record(
        actor.label,
        "bulletin.edit",
        f"bulletin {bulletin.id}",
        title=bulletin.title,
        service_reason=bulletin.service_reason or None,
    )
    db.session.commit()
    tracking.set_state(bulletin.id, bulletin.status)
    return bulletin


def check_reminder_audience(actor: Actor, filters: dict[str, list[Any]]) -> None:
    """A reminder's `not_answered` names a bulletin with a question that this actor may
    see; any other reads as if it did not exist."""
    if "not_answered" not in filters:
        return
    asked_id = int(filters["not_answered"][0])
    try:
        asked = get_bulletin(actor, asked_id)
    except NotFound:
        raise ValidationError(f"audience.not_answered: there is no bulletin {asked_id}") from None
    if questions.question_for(asked.id) is None:
        raise ValidationError(f"audience.not_answered: bulletin {asked.id} has no question")


def get_bulletin(actor: Actor, bulletin_id: int) -> Bulletin:
    bulletin = db.session.get(Bulletin, bulletin_id) if 0 < bulletin_id < 2**31 else None
    if bulletin is None or not can_see_region(actor, bulletin.partnership.region_id):
        raise NotFound(f"There is no bulletin {bulletin_id}.")
    return bulletin


def warnings(bulletin: Bulletin) -> list[str]:
    """What an organiser should know before sending: a repeat, a long SMS."""
    found = []
    if bulletin.status in _UNSENT:
        repeat = _recent_duplicate(bulletin)
        if repeat is not None:
            found.append(
                f"The same content went to {bulletin.partnership.name} in the last 24 hours "
                f"(bulletin {repeat.id}, {repeat.title!r}). Check this is not a repeat."
            )
        if "sms" in bulletin.channels:
            sample = rendering.compile_bulletin("", "", bulletin.sms_body).render_sms(
                rendering.sample_context()
            )
            warning = sms_segments.count(sample).warning
            if warning:
                found.append(warning)
    return found


def list_bulletins(actor: Actor, limit: int = 50) -> list[Bulletin]:
    from commsvc.models import Partnership

    query = select(Bulletin).join(Partnership).order_by(Bulletin.id.desc()).limit(limit)
    if actor.region_ids is not None:
        query = query.where(Partnership.region_id.in_(actor.region_ids))
    return list(db.session.scalars(query))


def progress(bulletin: Bulletin, counts: dict[str, int]) -> float:
    """Share of deliveries that reached an outcome; 1.0 once the bulletin is sent."""
    if bulletin.status == "sent":
        return 1.0
    total = sum(counts.values())
    if not total:
        return 0.0
    unfinished = sum(
        counts.get(s, 0)
        for s in (DeliveryStatus.PENDING, DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
    )
    return round((total - unfinished) / total, 4)


def bulletin_json(bulletin: Bulletin) -> dict[str, Any]:
    counts = tracking.counts(bulletin.id, finished=bulletin.status in ("sent", "cancelled"))
    return {
        "id": bulletin.id,
        "status": bulletin.status,
        "title": bulletin.title,
        "partnership": bulletin.partnership_id,
        "topic": bulletin.topic.name,
        "channels": bulletin.channels,
        "audience_size": bulletin.audience_size,
        "scheduled_for": bulletin.scheduled_for.isoformat() + "Z"
        if bulletin.scheduled_for
        else None,
        "counts": counts,
        "progress": progress(bulletin, counts),
        "template": {
            "id": bulletin.template.id,
            "name": bulletin.template.name,
            "version": bulletin.template.version,
        }
        if bulletin.template
        else None,
        "created_by": bulletin.created_by,
        "approved_by": bulletin.approved_by,
        "service_reason": bulletin.service_reason or None,
        "languages": ["en", "cy"] if bulletin.email_body_cy or bulletin.sms_body_cy else ["en"],
        "public": bulletin.public,
        "history": [
            {
                "from": step.from_status,
                "to": step.to_status,
                "actor": step.actor,
                "at": step.at.isoformat() + "Z",
                "note": step.note,
            }
            for step in lifecycle.history(bulletin.id)
        ],
        "warnings": warnings(bulletin),
        "question": questions.question_json(questions.question_for(bulletin.id)),
    }


def _checked(actor: Actor, data: Any) -> dict[str, Any]:
    """Every field of a bulletin, checked; a ValidationError names the field it is about."""
    if not isinstance(data, dict):
        raise ValidationError("The body must be a JSON object.")
    partnership_id = data.get("partnership")
    if not isinstance(partnership_id, int) or isinstance(partnership_id, bool):
        raise ValidationError("partnership must be the id (a number) of a partnership")
    partnership = organisation.get_partnership(actor, partnership_id)
    title = _text(data, "title", TITLE_LIMIT, required=True)
    topic_name = _text(data, "topic", 120, required=True)
    topic = db.session.scalar(select(Topic).where(Topic.name == topic_name))
    if topic is None:
        known = ", ".join(db.session.scalars(select(Topic.name).order_by(Topic.name)))
        raise ValidationError(
            f"There is no topic called {topic_name!r}. Topics: {known or 'none yet'}",
            field="topic",
        )
    channels = data.get("channels")
    if (
        not isinstance(channels, list)
        or not channels
        or not all(c in (Channel.EMAIL, Channel.SMS) for c in channels)
    ):
        raise ValidationError(
            'channels must be a non-empty list of "email" and "sms"', field="channels"
        )
    channels = sorted(set(channels))
    service_reason = _text(data, "service_reason", REASON_LIMIT, required=False).strip()
    if topic.kind == "service" and not service_reason:
        raise ValidationError(
            f"service_reason is required: {topic.name!r} is a service topic, which reaches "
            "members who stopped campaign messages; say why this bulletin is a service message",
            field="service_reason",
        )
    template = _template(actor, data)
    if template is not None:  # the template fills in what the request leaves out
        data = {f: getattr(template, f) for f in templates.FIELDS} | {
            k: v for k, v in data.items() if v not in (None, "")
        }
    subject = _text(data, "subject", SUBJECT_LIMIT, required="email" in channels)
    email_body = _text(data, "email_body", BODY_LIMIT, required="email" in channels)
    sms_body = _text(data, "sms_body", SMS_BODY_LIMIT, required="sms" in channels)
    welsh = _welsh(data, channels)
    public = data.get("public", False)
    if not isinstance(public, bool):
        raise ValidationError("public must be true or false", field="public")
    filters = audience.clean_filters(data.get("audience"))
    check_reminder_audience(actor, filters)
    compiled = rendering.compile_bulletin(subject, email_body, sms_body)
    if "sms" in channels:
        try:
            sms_segments.check_limit(compiled.render_sms(rendering.sample_context()))
        except ValidationError as error:
            raise ValidationError(error.detail, field="sms_body") from None
    if any(welsh.values()):
        _check_welsh(welsh, subject, email_body, sms_body, channels)
    return {
        "template": template,
        "partnership": partnership,
        "topic": topic,
        "title": title,
        "channels": channels,
        "subject": subject,
        "email_body": email_body,
        "sms_body": sms_body,
        **welsh,
        "public": public,
        "audience": filters,
        "service_reason": service_reason if topic.kind == "service" else "",
        "audience_size": audience.audience_size(partnership.id, filters),
    }


def _template(actor: Actor, data: dict[str, Any]) -> Any:
    template_id = data.get("template")
    if template_id is None:
        return None
    if not isinstance(template_id, int) or isinstance(template_id, bool):
        raise ValidationError("template must be the id (a number) of a template version")
    return templates.get_template(actor, template_id)


def _recent_duplicate(bulletin: Bulletin) -> Bulletin | None:
    """A bulletin of the same partnership with the same words, started in the last 24 hours."""
    mine = _fingerprint(bulletin)
    recent = db.session.scalars(
        select(Bulletin).where(
            Bulletin.partnership_id == bulletin.partnership_id,
            Bulletin.id != bulletin.id,
            Bulletin.status.in_([str(s) for s in _STARTED]),
            Bulletin.started_at >= utcnow() - DUPLICATE_WINDOW,
        )
    )
    return next((other for other in recent if _fingerprint(other) == mine), None)


def _fingerprint(bulletin: Bulletin) -> tuple[str, ...]:
    """Content compared without regard to spacing, only on the channels both use."""
    return tuple(
        " ".join(value.split()).casefold()
        for value in (bulletin.subject, bulletin.email_body, bulletin.sms_body)
    )


def _welsh(data: dict[str, Any], channels: list[str]) -> dict[str, str]:
    """The optional Welsh version: a Welsh email needs its Welsh subject, and the
    reverse, so a Welsh member never gets half of each."""
    welsh = {
        "subject_cy": _text(data, "subject_cy", SUBJECT_LIMIT, required=False),
        "email_body_cy": _text(data, "email_body_cy", BODY_LIMIT, required=False),
        "sms_body_cy": _text(data, "sms_body_cy", SMS_BODY_LIMIT, required=False),
    }
    if "email" in channels and bool(welsh["subject_cy"].strip()) != bool(
        welsh["email_body_cy"].strip()
    ):
        raise ValidationError(
            "The Welsh subject (subject_cy) and the Welsh email (email_body_cy) go together: "
            "give both or neither",
            field="subject_cy" if not welsh["subject_cy"].strip() else "email_body_cy",
        )
    return welsh


def _check_welsh(
    welsh: dict[str, str], subject: str, email_body: str, sms_body: str, channels: list[str]
) -> None:
    """The Welsh version compiles, and its text fits the SMS limit, as the English must."""
    try:
        welsh_version = rendering.compile_bulletin(
            welsh["subject_cy"] or subject,
            welsh["email_body_cy"] or email_body,
            welsh["sms_body_cy"] or sms_body,
            language="cy",
        )
    except TemplateError as error:
        part = str(error.extra.get("part", ""))
        field = {"subject": "subject_cy", "email body": "email_body_cy"}.get(part, "sms_body_cy")
        extra = {**error.extra, "field": field}
        raise TemplateError(f"Welsh version: {error.detail}", **extra) from None
    if "sms" in channels and welsh["sms_body_cy"]:
        try:
            sms_segments.check_limit(welsh_version.render_sms(rendering.sample_context()))
        except ValidationError as error:
            raise ValidationError(error.detail, field="sms_body_cy") from None


def _text(data: dict[str, Any], field: str, limit: int, required: bool) -> str:
    value = data.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text", field=field)
    if required and not value.strip():
        raise ValidationError(f"{field} is required", field=field)
    if len(value) > limit:
        raise ValidationError(f"{field} must be at most {limit} characters", field=field)
    return value.strip() if field in ("title", "topic", "subject", "subject_cy") else value
