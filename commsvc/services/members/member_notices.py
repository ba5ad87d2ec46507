"""One-off messages to a member about their own links: a fresh preference link to
their own address, and the confirmation of a corrected address sent to the new one.

They are not bulletins and make no delivery rows: they go through the one-off send
task (the one organisers' test sends use), in the member's language. A fresh link is
only ever sent to the address we hold, so an old link cannot be used to take over
someone's choices from elsewhere.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from commsvc import queueing
from commsvc.errors import ValidationError
from commsvc.models import Member
from commsvc.services.bulletins.links import MemberLinks


def send_fresh_link(member: Member) -> str:
    """Send a new preference link to the member's email (else mobile); returns where."""
    url = _links().preferences_url(member.public_id)
    with force_locale(member.language or "en"):
        subject = _("Your new link to choose what you receive")
        text = _("Here is your new link to choose what you receive from the union:")
    if member.email:
        _send("email", member.email, subject, f"{text}\n\n{url}\n", url, url)
        return "email"
    if member.mobile:
        _send("sms", member.mobile, subject, f"{text} {url}", url, url)
        return "sms"
    raise ValidationError("We have no address to send a link to.")


def send_address_confirmation(member: Member, channel: str, address: str) -> None:
    """Ask the new address itself to confirm it: a link sent there, nowhere else."""
    url = _links().confirm_address_url(member.public_id, channel, address)
    with force_locale(member.language or "en"):
        subject = _("Confirm your new contact details")
        text = _("Open this link to confirm that the union should use this address:")
    _send(
        channel,
        address,
        subject,
        f"{text}\n\n{url}\n",
        url,
        _links().preferences_url(member.public_id),
    )


def _send(channel: str, address: str, subject: str, text: str, url: str, manage_url: str) -> None:
    if channel == "sms":
        queueing.enqueue(
            queueing.TaskNames.SEND_TEST_MESSAGE,
            "sms",
            address,
            {"body": text},
            queue=queueing.Queues.SMS,
        )
        return
    first_line = html.escape(text.split("\n")[0])
    link = html.escape(url)
    page = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(subject)}</title>'
        f"</head><body><main><h1>{html.escape(subject)}</h1><p>{first_line}</p>"
        f'<p><a href="{link}">{link}</a></p></main></body></html>'
    )
    message = {
        "subject": subject,
        "text": text,
        "html": page,
        "unsubscribe_url": manage_url,
        "domain": urlsplit(current_app.config["COMMSVC_PUBLIC_URL"]).hostname or "localhost",
    }
    queueing.enqueue(
        queueing.TaskNames.SEND_TEST_MESSAGE, "email", address, message, queue=queueing.Queues.EMAIL
    )


def _links() -> MemberLinks:
    return MemberLinks(current_app.config["SECRET_KEY"], current_app.config["COMMSVC_PUBLIC_URL"])
