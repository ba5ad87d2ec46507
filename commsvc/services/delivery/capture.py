"""Reading what the local capture sinks kept, for the admin's outbox page.

The outbox is scoped like everything else: an organiser or viewer sees only the
messages of deliveries in their regions' bulletins; test copies (delivery 0) and
anything not traced to a delivery are for admins only.
"""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, Partnership
from commsvc.services.accounts.actors import Actor

SCAN_LIMIT = 2_000  # newest captured files read to find an actor's own


def recent_emails(actor: Actor, limit: int) -> list[dict[str, Any]]:
    folder = _folder()
    if folder is None or not (folder / "email").is_dir():
        return []
    files = sorted((folder / "email").glob("*.eml"), reverse=True)[:SCAN_LIMIT]
    headers = BytesHeaderParser(policy=policy.default)
    references = {}
    for path in files:
        with path.open("rb") as handle:
            references[path] = str(headers.parse(handle)["X-Commsvc-Delivery"] or "")
    visible = _visible_deliveries(actor, references.values())
    emails = []
    for path in [p for p in files if _shown(actor, references[p], visible)][:limit]:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        html = message.get_body(("html",))
        text = message.get_body(("plain",))
        emails.append(
            {
                "to": message["To"],
                "subject": message["Subject"],
                "delivery": message["X-Commsvc-Delivery"],
                "text": text.get_content() if text else "",
                "html": html.get_content() if html else "",
            }
        )
    return emails


def recent_texts(actor: Actor, limit: int) -> list[dict[str, Any]]:
    folder = _folder()
    if folder is None or not (folder / "sms" / "sms.jsonl").exists():
        return []
    lines = (folder / "sms" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line) for line in reversed(lines[-SCAN_LIMIT:])]
    visible = _visible_deliveries(actor, (str(t.get("reference", "")) for t in texts))
    return [t for t in texts if _shown(actor, str(t.get("reference", "")), visible)][:limit]


def _folder() -> Path | None:
    folder = current_app.config.get("COMMSVC_CAPTURE_DIR")
    return Path(folder) if folder else None


def _shown(actor: Actor, reference: str, visible: set[str]) -> bool:
    return actor.region_ids is None or reference in visible


def _visible_deliveries(actor: Actor, references: Any) -> set[str]:
    """Which of these delivery ids belong to bulletins in the actor's regions."""
    if actor.region_ids is None:
        return set()
    ids = sorted({int(r) for r in references if r.isascii() and r.isdigit() and 0 < int(r) < 2**31})
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        found.update(
            str(i)
            for i in db.session.scalars(
                select(Delivery.id)
                .join(Bulletin, Bulletin.id == Delivery.bulletin_id)
                .join(Partnership, Partnership.id == Bulletin.partnership_id)
                .where(
                    Delivery.id.in_(ids[start : start + 500]),
                    Partnership.region_id.in_(actor.region_ids),
                )
            )
        )
    return found
