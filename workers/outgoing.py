"""One member's message, built from what every message of a batch shares.

The send path (sending.py) builds each message just before it is handed to a gateway;
this module knows how: the member's context, a question's words, the email's headers
(VERP, DKIM, feedback id) or the text's sender. It never touches a delivery's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from commsvc.envelopes import EmailEnvelope
from commsvc.errors import CommsvcError, ValidationError
from commsvc.models import Bulletin
from commsvc.services.bulletins import (
    branding,
    question_messages,
    questions,
    rendering,
    versions,
)
from commsvc.services.bulletins.email_message import build_email, feedback_id, verp_and_dkim
from commsvc.services.bulletins.links import MemberLinks
from commsvc.services.delivery import recipients
from commsvc.services.members import mobiles
from workers.gateways.base import SmsMessage


@dataclass(frozen=True)
class Outgoing:
    """What every message of a batch shares: read once, not once per member."""

    channel: str
    bulletin_id: int
    topic_id: int
    shared: dict[str, dict[str, Any]]  # per language version
    version_of: dict[str, str]  # member language -> this channel's version
    links: MemberLinks
    domain: str
    question: Any
    reply_from: str
    sms_from: str
    email_from: str  # the From header, with the region's sender name: once per batch
    email_extras: dict[str, Any]

    @classmethod
    def of(cls, bulletin: Bulletin, channel: str) -> Outgoing:
        config = current_app.config
        # Read once: every commit expires the bulletin, and reading it again is a query.
        bulletin_id, topic_id = bulletin.id, bulletin.topic_id
        email_extras: dict[str, Any] = {}
        if channel == "email":
            verp, dkim = verp_and_dkim(config)
            feedback = feedback_id(bulletin_id, bulletin.partnership_id, topic_id)
            email_extras = {"feedback_id": feedback, "verp": verp, "dkim": dkim}
        question = questions.question_for(bulletin_id)
        reply_from = config.get("COMMSVC_SMS_REPLY_FROM") or ""
        return cls(
            channel=channel,
            bulletin_id=bulletin_id,
            topic_id=topic_id,
            shared={v: versions.shared_context(bulletin, v) for v in versions.VERSIONS},
            version_of={
                language: versions.version_for(bulletin, language, channel)
                for language in versions.VERSIONS
            },
            links=MemberLinks(config["SECRET_KEY"], config["COMMSVC_PUBLIC_URL"]),
            domain=urlsplit(config["COMMSVC_PUBLIC_URL"]).hostname or "localhost",
            question=question,
            reply_from=reply_from,
            # Every text tells members how to stop them, by reply only from this number.
            sms_from=rendering.sms_sender(config),
            email_from=branding.from_header(
                config["COMMSVC_EMAIL_FROM"], branding.brand_for(bulletin.partnership.region_id)
            ),
            email_extras=email_extras,
        )

    def build(
        self,
        compiled_versions: dict[str, rendering.CompiledBulletin],
        recipient: recipients.Recipient,
    ) -> EmailEnvelope | SmsMessage:
        """One member's message, in their language's version; any exception means it
        cannot be built."""
        public_id = recipient.public_id
        version = self.version_of.get(recipient.language or "", versions.ENGLISH)
        compiled = compiled_versions[version]
        context = rendering.member_context(
            self.shared[version],
            recipient.member,
            self.links,
            public_id,
            self.topic_id,
            self.bulletin_id,
            replies=bool(self.reply_from),
        )
        if self.question is not None:
            context |= question_messages.context_for(
                self.question,
                self.links,
                public_id,
                recipient.language,
                self.channel,
                bool(self.reply_from),
                colour=context["brand"]["colour"],
            )
        address = str(recipient.address)
        if self.channel == "email":
            return build_email(
                compiled.encode_email(context),
                delivery_id=recipient.delivery_id,
                sender=self.email_from,
                recipient=address,
                unsubscribe_url=context["unsubscribe_url"],
                message_id_domain=self.domain,
                **self.email_extras,
            )
        if not mobiles.is_usable_mobile(address):
            # Stored before the import checked numbers this way (a landline, say): the
            # delivery fails with the reason, where a provider would refuse or lose it.
            raise ValidationError(mobiles.why_unusable(address))
        sms = compiled.render_sms(context)
        return SmsMessage(recipient.delivery_id, address, self.sms_from, sms)


def build_error(error: Exception) -> str:
    """A reason an organiser can read for a message that could not be built."""
    if isinstance(error, CommsvcError):
        return error.detail
    detail = str(error).strip() or type(error).__name__
    return f"this member's message could not be built from the bulletin: {detail}"
