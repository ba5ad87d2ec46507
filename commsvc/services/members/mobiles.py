"""What makes a mobile number one that can receive texts: the one rule, used everywhere.

The member import (CSV and API), a member correcting their number, a test send, the
audience counts before sending and the send path itself all ask this module, so a
number accepted on the way in is never refused on the way out. A usable mobile is a
valid number (UK by default, any country with its + code) of a type that takes texts:
a UK landline, a freephone or a premium number is refused, saying why and what to give
instead. Numbers whose type cannot be told from their digits (North America's) are
accepted. This module never touches the database.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

from commsvc.errors import ValidationError

DEFAULT_REGION = "GB"
TAKES_TEXTS = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
WHAT_TO_DO = "give a mobile number, such as 07911 123456, or +353 86 123 4567 outside the UK"
_KIND = {
    PhoneNumberType.FIXED_LINE: "a landline number",
    PhoneNumberType.TOLL_FREE: "a freephone number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.VOIP: "an internet (VoIP) number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal (070) number",
    PhoneNumberType.PAGER: "a pager number",
    PhoneNumberType.UAN: "a company (UAN) number",
    PhoneNumberType.VOICEMAIL: "a voicemail number",
}


def usable_mobile(value: str) -> str:
    """`value` as an E.164 mobile number, or a ValidationError saying what is wrong with
    it and what to give instead (shown to organisers and members as it is)."""
    problem = _problem(value)
    if problem is not None:
        raise ValidationError(f"mobile {value!r} {problem}: {WHAT_TO_DO}")
    return _e164(value)


@lru_cache(maxsize=65536)
def is_usable_mobile(value: str) -> bool:
    """Whether a stored number can receive texts. Remembered per number: the send path
    and the counts before sending ask about the same members again and again, and
    parsing a number costs a few hundred microseconds."""
    return _problem(value) is None


def why_unusable(value: str) -> str:
    """What is wrong with a number that `is_usable_mobile` refused, for a delivery's
    reason (never the number itself: reasons are shown to organisers)."""
    return f"the member's mobile number cannot receive texts: it {_problem(value) or 'is usable'}"


def _problem(value: str) -> str | None:
    """None for a usable mobile, else what is wrong ("is a landline number")."""
    if not value.strip():
        return "is empty"
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return "is not a valid phone number (check the digits and the country code)"
    kind = phonenumbers.number_type(number)
    if kind not in TAKES_TEXTS:
        return f"is {_KIND.get(kind, 'not a mobile number')}, which cannot receive texts"
    return None


def _e164(value: str) -> str:
    number = phonenumbers.parse(value, DEFAULT_REGION)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
