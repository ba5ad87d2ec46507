"""A member correcting their own email address or mobile number.

The new address is only used once it has proved it is theirs: a link is sent to the
new address, and opening it (and pressing the button) makes the change, recorded as a
consent event. Until then nothing changes, so a typo never sends bulletins astray.
"""

from __future__ import annotations

from commsvc.errors import ValidationError
from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member
from commsvc.services.members import member_notices, records
from commsvc.services.members.preferences import WORDING_VERSION

CHANNELS = ("email", "sms")


def request_correction(member: Member, channel: str, raw: str) -> str:
    """Check the new address and send it a confirmation link; returns it normalised."""
    if channel not in CHANNELS:
        raise ValidationError("channel must be email or sms")
    address = records.clean_email(raw) if channel == "email" else records.clean_mobile(raw)
    if address == (member.email if channel == "email" else member.mobile):
        raise ValidationError("That is the address we have already.")
    member_notices.send_address_confirmation(member, channel, address)
    return address


def confirm_correction(member: Member, channel: str, address: str) -> None:
    """The new address answered: use it from now on, and record that the member did it."""
    old = member.email if channel == "email" else member.mobile
    if channel == "email":
        member.email = address
    else:
        member.mobile = address
    db.session.add(
        ConsentRecord(
            member_id=member.id,
            source="address_confirmed",
            wording_version=WORDING_VERSION,
            change={"channel": channel, "replaced": bool(old), "confirmed_by": "link"},
        )
    )
    db.session.commit()
