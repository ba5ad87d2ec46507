"""Upserting a chunk of validated members in a few statements, for imports at scale.

The rules are `members.upsert_member`'s: details are updated, and topics and
channels are set from the file only while the member has made no choice of their
own (a preference-centre, SMS keyword or one-click record). Names of regions,
branches, employers, partnerships and topics are resolved once per import through
`Lookups`; existing members are read once per chunk; rows are written in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member, Region, TopicPreference
from commsvc.models.base import utcnow
from commsvc.models.member import member_partnerships, new_public_id
from commsvc.services.accounts.actors import SYSTEM, Actor
from commsvc.services.members import organisation
from commsvc.services.members.preferences import WORDING_VERSION
from commsvc.services.members.records import MEMBER_CHOICE_SOURCES, MemberInput

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
LOOKUP_BATCH = 100
_DETAILS = (
    "first_name",
    "last_name",
    "email",
    "mobile",
    "region_id",
    "branch_id",
    "employer_id",
    "service_group",
    "workplace",
    "job_title",
    "erased_at",
)
_CHOICES = ("email_enabled", "sms_enabled", "all_topics")
_LANGUAGE = ("language",)


@dataclass
class Lookups:
    """Ids by name, found or created once per import; forget them after a rollback.

    Names resolve as `actor` may see them (`organisation.*_for`): an organiser's import
    cannot reach another region's partnership, branch or employer.
    """

    actor: Actor = SYSTEM
    ids: dict[tuple[str, str], int] = field(default_factory=dict)

    def reset(self) -> None:
        self.ids.clear()

    def region(self, name: str) -> int:
        return self._get("region", name, lambda: organisation.region_named(name).id)

    def branch(self, name: str, region_id: int) -> int:
        return self._get(
            "branch",
            name,
            lambda: organisation.branch_for(self.actor, name, self._region(region_id)).id,
        )

    def employer(self, name: str) -> int:
        return self._get("employer", name, lambda: organisation.employer_for(self.actor, name).id)

    def partnership(self, name: str, region_id: int) -> int:
        return self._get(
            "partnership",
            name,
            lambda: organisation.partnership_for(self.actor, name, self._region(region_id)).id,
        )

    def topic(self, name: str) -> int:
        return self._get("topic", name, lambda: organisation.topic_named(name).id)

    def _get(self, kind: str, name: str, find: Any) -> int:
        key = (kind, name)
        if key not in self.ids:
            self.ids[key] = find()
        return self.ids[key]

    @staticmethod
    def _region(region_id: int) -> Region:
        region = db.session.get(Region, region_id)
        assert region is not None
        return region


def upsert_chunk(chunk: list[MemberInput], lookups: Lookups, source: str) -> list[str]:
    """Create or update these members (distinct numbers); an outcome per row, in order."""
    existing = _existing([data.membership_number for data in chunk])
    now = utcnow()
    outcomes: list[str] = []
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    links: dict[str, set[int]] = {}  # membership number -> partnership ids, when they change
    topics: dict[str, set[int]] = {}  # membership number -> topics, when choices change
    consents: list[tuple[str, MemberInput]] = []
    for data in chunk:
        region_id = lookups.region(data.region)
        details: dict[str, Any] = {
            "first_name": data.first_name,
            "last_name": data.last_name,
            "email": data.email,
            "mobile": data.mobile,
            "region_id": region_id,
            "branch_id": lookups.branch(data.branch, region_id) if data.branch else None,
            "employer_id": lookups.employer(data.employer) if data.employer else None,
            "service_group": data.service_group,
            "workplace": data.workplace,
            "job_title": data.job_title,
            "erased_at": None,
        }
        partnership_ids = {lookups.partnership(n, region_id) for n in data.partnerships}
        wanted = {lookups.topic(n) for n in data.topics}
        choices = {
            "email_enabled": not data.channels or "email" in data.channels,
            "sms_enabled": not data.channels or "sms" in data.channels,
            "all_topics": not wanted,
        }
        number = data.membership_number
        current = existing.get(number)
        if current is None:
            new_rows.append(
                {
                    **details,
                    **choices,
                    "membership_number": number,
                    "public_id": new_public_id(),
                    "language": data.language or "en",
                    "opted_out": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            links[number] = partnership_ids
            topics[number] = wanted
            consents.append((number, data))
            outcomes.append(CREATED)
            continue
        details.update({name: current[name] for name in data.unusable})
        if data.language and not current["own_choices"]:  # the member's own choice wins
            details["language"] = data.language
        else:
            details["language"] = current["language"]
        changed = any(current[name] != value for name, value in details.items())
        if current["partnerships"] != partnership_ids:
            links[number] = partnership_ids
            changed = True
        if not current["own_choices"] and _choices_differ(current, choices, wanted):
            current.update(choices)
            topics[number] = wanted
            consents.append((number, data))
            changed = True
        if changed:
            updates.append(
                {
                    "b_id": current["id"],
                    **details,
                    **{name: current[name] for name in _CHOICES},
                    "updated_at": now,
                }
            )
        outcomes.append(UPDATED if changed else UNCHANGED)
    _write(new_rows, updates, links, topics, consents, existing, source)
    return outcomes


def _choices_differ(current: dict[str, Any], choices: dict[str, bool], wanted: set[int]) -> bool:
    if any(current[name] != value for name, value in choices.items()):
        return True
    subscribed = {t for t, on in current["topics"].items() if on}
    return bool(current["topics"]) if not wanted else wanted != subscribed


def _existing(numbers: list[str]) -> dict[str, dict[str, Any]]:
    """The chunk's members already stored, with their links, topics and own-choice flag."""
    found: dict[str, dict[str, Any]] = {}
    # Small IN lists keep PostgreSQL on the indexes however the table's statistics lag.
    for start in range(0, len(numbers), LOOKUP_BATCH):
        found.update(_existing_batch(numbers[start : start + LOOKUP_BATCH]))
    return found


def _existing_batch(numbers: list[str]) -> dict[str, dict[str, Any]]:
    table = Member.__table__
    names = _DETAILS + _CHOICES + _LANGUAGE
    columns = [table.c.id, table.c.membership_number, *(table.c[n] for n in names)]
    rows = db.session.execute(select(*columns).where(table.c.membership_number.in_(numbers)))
    found = {
        row.membership_number: {
            **row._asdict(),
            "partnerships": set(),
            "topics": {},
            "own_choices": False,
        }
        for row in rows
    }
    by_id = {member["id"]: member for member in found.values()}
    if not by_id:
        return found
    ids = list(by_id)
    for member_id, partnership_id in db.session.execute(
        select(member_partnerships.c.member_id, member_partnerships.c.partnership_id).where(
            member_partnerships.c.member_id.in_(ids)
        )
    ):
        by_id[member_id]["partnerships"].add(partnership_id)
    for member_id, topic_id, subscribed in db.session.execute(
        select(
            TopicPreference.member_id, TopicPreference.topic_id, TopicPreference.subscribed
        ).where(TopicPreference.member_id.in_(ids))
    ):
        by_id[member_id]["topics"][topic_id] = subscribed
    for member_id in db.session.scalars(
        select(ConsentRecord.member_id)
        .where(ConsentRecord.member_id.in_(ids), ConsentRecord.source.in_(MEMBER_CHOICE_SOURCES))
        .distinct()
    ):
        by_id[member_id]["own_choices"] = True
    return found


def _write(
    new_rows: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    links: dict[str, set[int]],
    topics: dict[str, set[int]],
    consents: list[tuple[str, MemberInput]],
    existing: dict[str, dict[str, Any]],
    source: str,
) -> None:
    table = Member.__table__
    if new_rows:
        created = db.session.execute(
            insert(table).returning(table.c.id, table.c.membership_number), new_rows
        )
        for member_id, number in created:
            existing[number] = {"id": member_id}
    if updates:
        db.session.execute(update(table).where(table.c.id == bindparam("b_id")), updates)
    id_of = {number: existing[number]["id"] for number in existing}
    if links:
        changed = [id_of[n] for n in links]
        db.session.execute(
            delete(member_partnerships).where(member_partnerships.c.member_id.in_(changed))
        )
        rows = [{"member_id": id_of[n], "partnership_id": p} for n, ps in links.items() for p in ps]
        if rows:
            db.session.execute(insert(member_partnerships), rows)
    if topics:
        changed = [id_of[n] for n in topics]
        db.session.execute(delete(TopicPreference).where(TopicPreference.member_id.in_(changed)))
        rows = [
            {"member_id": id_of[n], "topic_id": t, "subscribed": True}
            for n, ts in topics.items()
            for t in sorted(ts)
        ]
        if rows:
            db.session.execute(insert(TopicPreference), rows)
    if consents:
        now = utcnow()
        db.session.execute(
            insert(ConsentRecord),
            [
                {
                    "member_id": id_of[n],
                    "at": now,
                    "source": source,
                    "wording_version": WORDING_VERSION,
                    "change": {
                        "topics": data.topics or "all",
                        "channels": data.channels or "all",
                    },
                }
                for n, data in consents
            ],
        )
