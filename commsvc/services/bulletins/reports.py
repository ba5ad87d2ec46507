"""A bulletin's report: counts per channel and status, sending over time, failures
with their reasons, and the CSV export of its deliveries.

Everything is read from the database (the truth), never from the Redis counters.
Callers load the bulletin through `bulletins.get_bulletin`, which applies the
actor's scope, so a report cannot show another region's bulletin.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, Member, Partnership
from commsvc.services.accounts.actors import Actor
from commsvc.services.bulletins import audience
from commsvc.services.members import organisation
from commsvc.statuses import DeliveryStatus

FAILED = (
    DeliveryStatus.TEMPORARY_FAILURE,
    DeliveryStatus.PERMANENT_FAILURE,
    DeliveryStatus.BOUNCED,
)
LEFT_OUT = (DeliveryStatus.SKIPPED, DeliveryStatus.SUPPRESSED)
CSV_COLUMNS = (
    "delivery_id",
    "membership_number",
    "channel",
    "status",
    "attempts",
    "provider",
    "provider_id",
    "last_error",
    "sent_at",
    "delivered_at",
)
CHART_WIDTH, CHART_HEIGHT = 600, 200
_CSV_CHUNK = 1000
PAGE_SIZE = 50
_TIMELINE_POINTS = 60


@dataclass(frozen=True)
class Series:
    channel: str
    total: int
    points: str  # SVG polyline points, already scaled to the chart


@dataclass(frozen=True)
class Timeline:
    start: datetime | None
    end: datetime | None
    peak: int
    series: list[Series] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    statuses: list[str]
    channels: list[str]
    counts: dict[tuple[str, str], int]  # (channel, status) -> n
    totals: dict[str, int]  # status -> n
    failures: list[tuple[str, str, int]]  # channel, reason, n
    timeline: Timeline
    left_out: list[tuple[str, str, int]] = field(default_factory=list)  # skipped, suppressed


def bulletin_report(bulletin: Bulletin) -> Report:
    rows = db.session.execute(
        select(Delivery.channel, Delivery.status, func.count())
        .where(Delivery.bulletin_id == bulletin.id)
        .group_by(Delivery.channel, Delivery.status)
    ).all()
    counts = {(channel, status): int(n) for channel, status, n in rows}
    totals: dict[str, int] = {}
    for (_channel, status), n in counts.items():
        totals[status] = totals.get(status, 0) + n
    statuses = [str(s) for s in DeliveryStatus if str(s) in totals]
    channels = sorted({channel for channel, _ in counts} | set(bulletin.channels))
    return Report(
        statuses,
        channels,
        counts,
        totals,
        _failures(bulletin.id),
        _timeline(bulletin.id, channels),
        _grouped_reasons(bulletin.id, LEFT_OUT),
    )


def partnership_member_counts(actor: Actor) -> list[tuple[Partnership, int]]:
    """The partnerships an actor sees, each with the members a bulletin would reach."""
    return [
        (partnership, audience.audience_size(partnership.id, {}))
        for partnership in organisation.list_partnerships(actor)
    ]


def deliveries_csv(bulletin: Bulletin) -> Iterator[str]:
    """The bulletin's deliveries as CSV, streamed in chunks so memory stays flat."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Delivery, Member.membership_number)
            .join(Member, Member.id == Delivery.member_id)
            .where(Delivery.bulletin_id == bulletin.id, Delivery.id > last_id)
            .order_by(Delivery.id)
            .limit(_CSV_CHUNK)
        ).all()
        for delivery, number in rows:
            writer.writerow(
                [
                    delivery.id,
                    _safe_cell(number),
                    delivery.channel,
                    delivery.status,
                    delivery.attempts,
                    delivery.provider or "",
                    _safe_cell(delivery.provider_id),
                    _safe_cell(delivery.last_error),
                    _iso(delivery.sent_at),
                    _iso(delivery.delivered_at),
                ]
            )
            last_id = delivery.id
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < _CSV_CHUNK:
            return


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    membership_number: str
    name: str
    channel: str
    status: str
    reason: str
    updated_at: datetime | None


def deliveries_page(
    bulletin: Bulletin, search: str = "", status: str = "", page: int = 1
) -> tuple[list[DeliveryRow], int]:
    """One page of a bulletin's deliveries, newest change first, and how many match.

    `search` is a membership number or a name (start of either); `status` one delivery status.
    """
    query = (
        select(Delivery, Member.membership_number, Member.first_name, Member.last_name)
        .join(Member, Member.id == Delivery.member_id)
        .where(Delivery.bulletin_id == bulletin.id)
    )
    if status in {str(s) for s in DeliveryStatus}:
        query = query.where(Delivery.status == status)
    words = search.strip()[:100]
    if words:
        like = words.replace("%", "").replace("_", "") + "%"
        query = query.where(
            Member.membership_number.ilike(like)
            | Member.first_name.ilike(like)
            | Member.last_name.ilike(like)
        )
    total = int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = db.session.execute(
        query.order_by(Delivery.id).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)
    ).all()
    return [
        DeliveryRow(
            id=delivery.id,
            membership_number=number,
            name=f"{first} {last}".strip(),
            channel=delivery.channel,
            status=delivery.status,
            reason=delivery.last_error or "",
            updated_at=delivery.updated_at,
        )
        for delivery, number, first, last in rows
    ], total


def messages_sent(bulletin: Bulletin) -> int:
    """Messages (not members) that reached a gateway: sent, delivered or bounced later."""
    return int(
        db.session.scalar(
            select(func.count()).where(
                Delivery.bulletin_id == bulletin.id,
                Delivery.status.in_(
                    [DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.BOUNCED]
                ),
            )
        )
        or 0
    )


def _failures(bulletin_id: int) -> list[tuple[str, str, int]]:
    return _grouped_reasons(bulletin_id, FAILED)


def _grouped_reasons(bulletin_id: int, statuses: tuple[str, ...]) -> list[tuple[str, str, int]]:
    rows = db.session.execute(
        select(Delivery.channel, Delivery.last_error, func.count())
        .where(Delivery.bulletin_id == bulletin_id, Delivery.status.in_(statuses))
        .group_by(Delivery.channel, Delivery.last_error)
        .order_by(func.count().desc())
        .limit(20)
    ).all()
    return [(channel, reason or "no reason given", int(n)) for channel, reason, n in rows]


def _timeline(bulletin_id: int, channels: list[str]) -> Timeline:
    """Messages accepted by the gateways over time, cumulative per channel."""
    stamps: dict[str, list[datetime]] = {channel: [] for channel in channels}
    for channel, sent_at in db.session.execute(
        select(Delivery.channel, Delivery.sent_at)
        .where(Delivery.bulletin_id == bulletin_id, Delivery.sent_at.is_not(None))
        .order_by(Delivery.sent_at)
        .execution_options(yield_per=5000)
    ):
        if sent_at is not None:
            stamps.setdefault(channel, []).append(sent_at)
    every = [s for values in stamps.values() for s in values]
    if not every:
        return Timeline(None, None, 0)
    start, end = min(every), max(every)
    span = max((end - start).total_seconds(), 1.0)
    peak = max(len(values) for values in stamps.values())
    series = []
    for channel, values in sorted(stamps.items()):
        if not values:
            continue
        points = [f"0,{CHART_HEIGHT}"]
        step = max(1, len(values) // _TIMELINE_POINTS)
        for index in range(step - 1, len(values), step):
            points.append(_point(values[index], index + 1, start, span, peak))
        points.append(_point(values[-1], len(values), start, span, peak))
        series.append(Series(channel, len(values), " ".join(points)))
    return Timeline(start, end, peak, series)


def _point(moment: datetime, count: int, start: datetime, span: float, peak: int) -> str:
    x = (moment - start).total_seconds() / span * CHART_WIDTH
    y = CHART_HEIGHT - count / peak * CHART_HEIGHT
    return f"{x:.1f},{y:.1f}"


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() + "Z" if moment else ""


def _safe_cell(value: str | None) -> str:
    """Keep spreadsheets from running a cell as a formula (CSV injection)."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
