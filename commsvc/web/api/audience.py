"""The audience preview: who a bulletin would reach, before it is written or sent."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import select

from commsvc.errors import ValidationError
from commsvc.extensions import db
from commsvc.models import Topic
from commsvc.services.bulletins import audience, composing
from commsvc.services.bulletins.audience_preview import audience_preview
from commsvc.services.members import organisation
from commsvc.statuses import Channel
from commsvc.web.api import bp, current_actor, json_body


@bp.post("/audience/preview")
def preview_audience() -> Any:
    """Same body as POST /bulletins (partnership, topic, channels, audience); nothing saved."""
    body = json_body()
    partnership_id = body.get("partnership")
    if not isinstance(partnership_id, int) or isinstance(partnership_id, bool):
        raise ValidationError("partnership must be the id (a number) of a partnership")
    partnership = organisation.get_partnership(current_actor(), partnership_id)
    topic_name = body.get("topic")
    if not isinstance(topic_name, str) or not topic_name.strip():
        raise ValidationError("topic is required: the name of a topic")
    topic = db.session.scalar(select(Topic).where(Topic.name == topic_name.strip()))
    if topic is None:
        raise ValidationError(f"There is no topic called {topic_name.strip()!r}.")
    channels = body.get("channels", [Channel.EMAIL, Channel.SMS])
    if (
        not isinstance(channels, list)
        or not channels
        or not all(c in (Channel.EMAIL, Channel.SMS) for c in channels)
    ):
        raise ValidationError('channels must be a non-empty list of "email" and "sms"')
    filters = audience.clean_filters(body.get("audience"))
    composing.check_reminder_audience(current_actor(), filters)
    preview = audience_preview(partnership.id, filters, topic.id, sorted(set(channels)))
    return jsonify(preview.as_json())
