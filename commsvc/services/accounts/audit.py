"""The audit log: who did what, when.

Services call `record` inside the transaction of the change they audit, so an entry
exists exactly when the change does; the caller commits. Entries hold ids and labels,
never a member's personal data (an erasure must not leave a copy behind here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from commsvc.errors import Forbidden
from commsvc.extensions import db
from commsvc.models import AuditEntry
from commsvc.services.accounts.actors import Actor

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int


def record(actor_label: str, action: str, target: str = "", **detail: Any) -> AuditEntry:
    """Add an entry to the current transaction; the caller commits with its change."""
    entry = AuditEntry(
        actor=actor_label[:254], action=action[:60], target=target[:120], detail=detail
    )
    db.session.add(entry)
    return entry


def list_entries(actor: Actor, page: int = 1, action: str = "", who: str = "") -> AuditPage:
    """The newest entries first; only admins read the whole log."""
    if actor.role != "admin":
        raise Forbidden("Only admins can read the audit log.")
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if who:
        query = query.where(AuditEntry.actor.contains(who.strip()))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    entries = db.session.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return AuditPage(list(entries), page, pages, total)


def actions() -> list[str]:
    return list(
        db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )
