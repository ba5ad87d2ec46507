"""Factories: valid objects in one call, with overrides for what a test cares about."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

from commsvc.models import Partnership
from commsvc.services.accounts import actors, auth
from commsvc.services.members import importer, organisation
from commsvc.services.members.records import FIELDS

_numbers = itertools.count(1)

REGION = "North West"
S31 = "Salford Integrated Care Section 31 Partnership"
S31_EMPLOYERS = ["Salford Royal NHS Foundation Trust", "Salford City Council"]


def member_row(**overrides: Any) -> dict[str, str]:
    n = next(_numbers)
    row = {
        "membership_number": f"M{n:06d}",
        "first_name": "Alex",
        "last_name": f"Member{n}",
        "email": f"member{n}@example.org",
        "mobile": f"07911 {100000 + n:06d}",
        "region": REGION,
        "branch": "Salford Health Branch",
        "employer": S31_EMPLOYERS[0],
        "service_group": "health",
        "workplace": "Intermediate Care Unit",
        "job_title": "Staff Nurse",
        "partnerships": "",
        "topics": "",
        "channels": "",
    }
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    header = header or list(FIELDS)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue().encode()


def import_rows(rows: list[dict[str, str]]) -> importer.ImportReport:
    return importer.import_members(io.BytesIO(csv_bytes(rows)))


def partnership(
    name: str = S31,
    region: str = REGION,
    employers: list[str] | None = None,
    kind: str = "section_31_partnership",
) -> Partnership:
    organisation.region_named(region)
    return organisation.create_partnership(
        actors.SYSTEM,
        {
            "name": name,
            "kind": kind,
            "region": region,
            "employers": S31_EMPLOYERS if employers is None else employers,
        },
    )


def topics(*names: str, kind: str = "campaign") -> None:
    from commsvc.extensions import db

    for name in names or ("bargaining", "campaigns", "partnership news"):
        organisation.topic_named(name, kind)
    db.session.commit()


def api_key(role: str = "admin", regions: list[str] | None = None) -> dict[str, str]:
    """Authorization headers for a fresh API key."""
    _key, plain = auth.create_api_key(f"test-{next(_numbers)}", role, regions or [])
    return {"Authorization": f"Bearer {plain}"}


def bulletin_body(partnership_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partnership": partnership_id,
        "title": "Pay offer consultation",
        "topic": "bargaining",
        "channels": ["email", "sms"],
        "subject": "Pay offer: have your say, {{ member.first_name }}",
        "email_body": "Dear {{ member.first_name }},\n\nThe **{{ partnership.name }}** "
        "pay offer is out.\n\n[Your choices]({{ preferences_url }})",
        "sms_body": "Hi {{ member.first_name }}, the pay offer is out. "
        "Choices: {{ preferences_url }}",
        "audience": {},
    }
    body.update(overrides)
    return body


def sending_bulletin(count: int = 3, channels: str = "email;sms", **body: Any) -> Any:
    """A bulletin already `sending`, fanned out into queued deliveries for `count` members.

    Members get numbered addresses (`m{n}@example.org`, `+4479112{n:05d}`). The fan-out's
    batch tasks go to the broker; tests that call `send_batch` themselves ignore them.
    """
    from commsvc.extensions import db
    from commsvc.models import Delivery
    from commsvc.services.bulletins import composing, lifecycle
    from commsvc.services.delivery import fanout

    first = next(_numbers) * 1000
    rows = [
        member_row(
            email=f"m{first + n}@example.org",
            mobile=f"07911 2{(first + n) % 100000:05d}",
            channels=channels,
        )
        for n in range(count)
    ]
    import_rows(rows)
    partnership_id = db.session.query(Partnership.id).filter_by(name=S31).scalar()
    if partnership_id is None:
        partnership_id = partnership().id
    topics()
    chosen = [c for c in ("email", "sms") if c in channels.split(";")]
    bulletin = composing.create_bulletin(
        actors.SYSTEM, bulletin_body(partnership_id, channels=chosen, **body)
    )
    lifecycle.start_sending(bulletin, "test")
    fanout.fan_out(bulletin.id)
    db.session.expire_all()
    bulletin.deliveries_by_channel = {  # type: ignore[attr-defined]
        channel: [
            d.id
            for d in db.session.query(Delivery)
            .filter_by(bulletin_id=bulletin.id, channel=channel)
            .order_by(Delivery.id)
        ]
        for channel in chosen
    }
    return bulletin


def bulk_members(count: int, channels: str = "email", prefix: str = "bulk") -> list[str]:
    """Insert `count` members in one statement (the importer is too slow for thousands);
    they get the region, branch and employer of one imported member. Returns addresses."""
    from sqlalchemy import insert

    from commsvc.extensions import db
    from commsvc.models import Member
    from commsvc.models.member import new_public_id

    import_rows([member_row(channels=channels)])
    template = db.session.query(Member).order_by(Member.id.desc()).first()
    assert template is not None
    rows = [
        {
            "membership_number": f"B{prefix}{n:07d}",
            "public_id": new_public_id(),
            "first_name": f"Bulk{n}",
            "last_name": "Member",
            "email": f"{prefix}{n}@example.org" if "email" in channels else None,
            "mobile": f"+4479112{n:05d}" if "sms" in channels else None,
            "region_id": template.region_id,
            "branch_id": template.branch_id,
            "employer_id": template.employer_id,
            "service_group": template.service_group,
        }
        for n in range(count)
    ]
    db.session.execute(insert(Member), rows)
    db.session.commit()
    if "email" in channels:
        return [str(r["email"]) for r in rows] + [str(template.email)]
    return [str(r["mobile"]) for r in rows] + [str(template.mobile)]


def member(**overrides: Any) -> Any:
    """One imported member (through the CSV rules), returned as a Member."""
    from commsvc.extensions import db
    from commsvc.models import Member

    row = member_row(**overrides)
    report = import_rows([row])
    assert report.ok, report.errors
    return db.session.query(Member).filter_by(membership_number=row["membership_number"]).one()


def member_links() -> Any:
    """The link maker the app uses, so tests open the same URLs a member gets."""
    from flask import current_app

    from commsvc.services.bulletins.links import MemberLinks

    return MemberLinks(current_app.config["SECRET_KEY"], "")


def organiser(label: str = "author@union.example", role: str = "organiser") -> actors.Actor:
    """An actor acting across every region, named by its label (who did what)."""
    return actors.Actor(label=label, role=role, region_ids=None)


def bulletin(partnership_id: int, actor: actors.Actor | None = None, **overrides: Any) -> Any:
    """A saved draft bulletin (topics are created when missing)."""
    from commsvc.services.bulletins import composing

    topics()
    return composing.create_bulletin(
        actor or organiser(), bulletin_body(partnership_id, **overrides)
    )


def home_regions(*names: str) -> list[str]:
    """Region names for an organiser's or viewer's account, created when missing: an
    account with no regions sees none."""
    from commsvc.extensions import db

    names = names or (REGION,)
    for name in names:
        organisation.region_named(name)
    db.session.commit()
    return list(names)


def question(**overrides: Any) -> dict[str, Any]:
    """A consultation question for a bulletin body, closing in an hour."""
    from datetime import UTC, datetime, timedelta

    body: dict[str, Any] = {
        "text": "Do you accept the pay offer?",
        "choices": ["Accept", "Reject"],
        "closes_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    body.update(overrides)
    return body
