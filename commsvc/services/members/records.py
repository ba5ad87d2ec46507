"""Member records: one validation for every way in (CSV, API, admin), and the upsert.

A member's own choices win over an organiser's file: once a member has changed their
preferences themselves, an import or API upsert updates their details but never their
topics or channels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from commsvc.errors import ValidationError
from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member, Topic, TopicPreference
from commsvc.models.organisation import SERVICE_GROUPS
from commsvc.services.accounts.actors import SYSTEM, Actor
from commsvc.services.members import mobiles, organisation

FIELDS = (
    "membership_number",
    "first_name",
    "last_name",
    "email",
    "mobile",
    "region",
    "branch",
    "employer",
    "service_group",
    "workplace",
    "job_title",
    "partnerships",
    "topics",
    "channels",
)
CHANNELS = ("email", "sms")
LANGUAGES = ("en", "cy")  # the optional last CSV column `language`; empty means unchanged
MEMBER_CHOICE_SOURCES = (
    "preference_centre",
    "sms_keyword",
    "one_click",
    "unsubscribe_undo",
    "address_confirmed",
    "text_opt_out_link",
)
_MEMBERSHIP_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_-]{0,39}$")
_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "region": 120,
    "branch": 160,
    "employer": 200,
    "workplace": 200,
    "job_title": 200,
}


@dataclass
class MemberInput:
    """A member's fields after validation: trimmed, bounded, normalised."""

    membership_number: str
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    mobile: str | None = None
    region: str = ""
    branch: str | None = None
    employer: str | None = None
    service_group: str = ""
    workplace: str = ""
    job_title: str = ""
    partnerships: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Addresses given but invalid: a stored member keeps the one on record.
    unusable: frozenset[str] = frozenset()
    language: str | None = None  # None: not given (a new member gets English)


def validate_member(raw: dict[str, Any]) -> MemberInput:
    """Check one member's fields; raise ValidationError naming every problem found.

    One unusable address or channel does not cost the member: an invalid email or
    mobile beside a valid other address, or a chosen channel with no address for it,
    is left out and named in `warnings`. Only a member with nothing usable is refused.
    """
    problems: list[str] = []
    warnings: list[str] = []  # kept, with what cannot be used left out
    number = _clean(raw.get("membership_number"))
    if not number:
        problems.append("membership_number is missing")
    elif not _MEMBERSHIP_NUMBER.match(number):
        problems.append(f"membership_number {number!r} may hold only letters, digits, / _ -")
    texts = {}
    for name, limit in _LIMITS.items():
        value = _clean(raw.get(name))
        if len(value) > limit:
            problems.append(f"{name} is longer than {limit} characters")
        texts[name] = value[:limit]
    if not texts["region"]:
        problems.append("region is missing")
    email, mobile = _usable_addresses(raw, problems, warnings)
    usable_email, usable_mobile = email or "", mobile or ""
    group = _clean(raw.get("service_group")).lower().replace(" ", "_").replace("-", "_")
    if group not in SERVICE_GROUPS:
        problems.append(
            f"service_group {raw.get('service_group')!r} is not one of health, local_government"
        )
    partnerships = _names(raw.get("partnerships"), "partnerships", problems)
    topics = _names(raw.get("topics"), "topics", problems)
    channels = [c.lower() for c in _names(raw.get("channels"), "channels", problems)]
    for channel in channels:
        if channel not in CHANNELS:
            problems.append(f"channel {channel!r} is not email or sms")
    channels = _usable_channels(channels, usable_email, usable_mobile, problems, warnings)
    language = _clean(raw.get("language")).lower() or None
    if language is not None and language not in LANGUAGES:
        problems.append(f"language {raw.get('language')!r} is not en or cy")
    if problems:
        raise ValidationError("; ".join(problems))
    return MemberInput(
        membership_number=number,
        first_name=texts["first_name"],
        last_name=texts["last_name"],
        email=usable_email or None,
        mobile=usable_mobile or None,
        region=texts["region"],
        branch=texts["branch"] or None,
        employer=texts["employer"] or None,
        service_group=group,
        workplace=texts["workplace"],
        job_title=texts["job_title"],
        partnerships=partnerships,
        topics=topics,
        channels=sorted(set(channels)),
        warnings=warnings,
        unusable=frozenset(
            name for name, value in (("email", email), ("mobile", mobile)) if value is None
        ),
        language=language,
    )


def upsert_member(data: MemberInput, source: str, actor: Actor = SYSTEM) -> tuple[Member, bool]:
    """Create or update by membership number; returns (member, changed).

    Names resolve as `actor` may see them: an organiser cannot reach another region's
    partnership, branch or employer (the answer is the same as for a missing one).
    """
    member = db.session.scalar(
        select(Member).where(Member.membership_number == data.membership_number)
    )
    created = member is None
    region = organisation.region_named(data.region)
    partnerships = [organisation.partnership_for(actor, n, region) for n in data.partnerships]
    values: dict[str, Any] = {
        "first_name": data.first_name,
        "last_name": data.last_name,
        "email": data.email,
        "mobile": data.mobile,
        "region_id": region.id,
        "branch_id": organisation.branch_for(actor, data.branch, region).id
        if data.branch
        else None,
        "employer_id": organisation.employer_for(actor, data.employer).id
        if data.employer
        else None,
        "service_group": data.service_group,
        "workplace": data.workplace,
        "job_title": data.job_title,
        "erased_at": None,
    }
    if member is not None:
        values.update({name: getattr(member, name) for name in data.unusable})
    if member is None:
        member = Member(membership_number=data.membership_number, language="en")
        db.session.add(member)
    changed = created
    # A language the member chose on their page wins over an organiser's data.
    if data.language and (created or not _has_own_choices(member)):
        values["language"] = data.language
    for name, value in values.items():
        if getattr(member, name, None) != value:
            setattr(member, name, value)
            changed = True
    if {p.id for p in member.partnerships} != {p.id for p in partnerships}:
        member.partnerships = partnerships
        changed = True
    db.session.flush()
    if (created or not _has_own_choices(member)) and _apply_choices(member, data):
        changed = True
        db.session.add(
            ConsentRecord(
                member_id=member.id,
                source=source,
                change={"topics": data.topics or "all", "channels": data.channels or "all"},
            )
        )
    return member, changed


def get_member(membership_number: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.membership_number == membership_number))


def member_json(member: Member) -> dict[str, Any]:
    subscribed = [p.topic_id for p in member.topic_preferences if p.subscribed]
    topics = db.session.scalars(select(Topic.name).where(Topic.id.in_(subscribed))).all()
    return {
        "membership_number": member.membership_number,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "email": member.email,
        "mobile": member.mobile,
        "region": member.region.name,
        "branch": member.branch.name if member.branch else None,
        "employer": member.employer.name if member.employer else None,
        "service_group": member.service_group,
        "workplace": member.workplace,
        "job_title": member.job_title,
        "partnerships": sorted(p.name for p in member.partnerships),
        "topics": [] if member.all_topics else sorted(topics),
        "channels": [c for c in CHANNELS if getattr(member, f"{c}_enabled")],
        "opted_out": member.opted_out,
        "language": member.language,
        "erased": member.erased_at is not None,
    }


def _apply_choices(member: Member, data: MemberInput) -> bool:
    """Set topics and channels from an organiser's data; True if anything changed."""
    changed = False
    email_on = not data.channels or "email" in data.channels
    sms_on = not data.channels or "sms" in data.channels
    if (member.email_enabled, member.sms_enabled) != (email_on, sms_on):
        member.email_enabled, member.sms_enabled = email_on, sms_on
        changed = True
    wanted = {organisation.topic_named(name).id for name in data.topics}
    current = {p.topic_id for p in member.topic_preferences if p.subscribed}
    all_topics = not wanted
    if (
        member.all_topics != all_topics
        or (not all_topics and wanted != current)
        or (all_topics and member.topic_preferences)
    ):
        member.all_topics = all_topics
        member.topic_preferences = [
            TopicPreference(topic_id=topic_id, subscribed=True) for topic_id in sorted(wanted)
        ]
        changed = True
    return changed


def _has_own_choices(member: Member) -> bool:
    return (
        db.session.scalar(
            select(ConsentRecord.id)
            .where(
                ConsentRecord.member_id == member.id,
                ConsentRecord.source.in_(MEMBER_CHOICE_SOURCES),
            )
            .limit(1)
        )
        is not None
    )


def _clean(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise ValidationError(f"expected text, got {type(value).__name__}")
    # Control characters (a newline in a name) never belong in a member field.
    return " ".join(str(value).split())


def _names(value: Any, field_name: str, problems: list[str]) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = value.split(";")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
    else:
        problems.append(f"{field_name} must be a list of names")
        return []
    names = [" ".join(item.split()) for item in items if item.strip()]
    if any(len(name) > 200 for name in names):
        problems.append(f"a name in {field_name} is longer than 200 characters")
    return list(dict.fromkeys(names))


def clean_email(value: str) -> str:
    """One email address from a member, normalised, or a ValidationError saying why not."""
    problems: list[str] = []
    email = _checked_email(_clean(value), problems)
    if problems or not email:
        raise ValidationError(problems[0] if problems else "email is missing")
    return email


def clean_mobile(value: str) -> str:
    """One mobile number from a member, in E.164, or a ValidationError saying why not."""
    problems: list[str] = []
    mobile = _checked_mobile(_clean(value), problems)
    if problems or not mobile:
        raise ValidationError(problems[0] if problems else "mobile is missing")
    return mobile


def _usable_addresses(
    raw: dict[str, Any], problems: list[str], warnings: list[str]
) -> tuple[str | None, str | None]:
    """The valid email and mobile ("" when not given, None when invalid); an invalid one
    beside a valid other is left out with a warning; with no valid address, refused."""
    bad_email: list[str] = []
    bad_mobile: list[str] = []
    email = _checked_email(_clean(raw.get("email")), bad_email)
    mobile = _checked_mobile(_clean(raw.get("mobile")), bad_mobile)
    if email or mobile:
        warnings.extend(f"{problem}: left out" for problem in bad_email)
        kept = "the member was kept without a mobile"
        warnings.extend(f"{problem}; {kept}" for problem in bad_mobile)
    elif bad_email or bad_mobile:
        problems.extend(bad_email + bad_mobile)
    else:
        problems.append("a member needs an email or a mobile")
    return email, mobile


def _usable_channels(
    channels: list[str],
    email: str | None,
    mobile: str | None,
    problems: list[str],
    warnings: list[str],
) -> list[str]:
    """The chosen channels the member has an address for; naming one without its
    address is a warning, unless no chosen channel is left (then nothing is usable)."""
    addresses = {"email": email, "sms": mobile}
    known = [c for c in channels if c in addresses]
    usable = [c for c in known if addresses[c]]
    missing = {"email": "email", "sms": "mobile"}
    notes = [f"channel {c} chosen but there is no {missing[c]}" for c in known if c not in usable]
    if known and not usable and (email or mobile):
        problems.extend(notes)
    else:
        warnings.extend(f"{note}: left out" for note in notes)
    return usable


def _checked_email(value: str, problems: list[str]) -> str | None:
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        problems.append(f"email {value!r} is not valid: {error}")
        return None


def _checked_mobile(value: str, problems: list[str]) -> str | None:
    """The one rule for a mobile that can receive texts (`mobiles`), as records use it."""
    if not value:
        return ""
    try:
        return mobiles.usable_mobile(value)
    except ValidationError as error:
        problems.append(error.detail)
        return None
