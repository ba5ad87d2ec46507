"""Reading what the local capture sinks kept, for the admin's outbox page (demo, tests).

Listing and searching read the sinks' one-line-per-message indexes, never every file;
only the one email shown is opened and parsed.

The outbox is scoped like everything else: an organiser or viewer sees only the
messages of deliveries in their regions' bulletins; test copies (delivery 0) and
anything not traced to a delivery are for admins only.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, Partnership
from commsvc.services.accounts.actors import Actor

PAGE_SIZE = 25
_EML = re.compile(r"^\d{1,12}\.eml$")
INDEX = "index.jsonl"  # written by the email sink, one line per message


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def emails_page(actor: Actor, search: str = "", page: int = 1) -> Page:
    """Emails newest first, filtered by recipient or subject (any part, any case)."""
    folder = _folder("email")
    entries = _email_index(folder) if folder else []
    return _page(_scoped(actor, entries, "delivery"), search, page, ("to", "subject"))


def texts_page(actor: Actor, search: str = "", page: int = 1) -> Page:
    """Texts newest first, filtered by number or words."""
    folder = _folder("sms")
    entries = _read_lines(folder / "sms.jsonl") if folder else []
    return _page(_scoped(actor, entries, "reference"), search, page, ("to", "body"))


def email_parts(actor: Actor, name: str) -> dict[str, str] | None:
    """One captured email's subject, plain text and HTML; None if there is no such file,
    or it is not the actor's to see."""
    folder = _folder("email")
    if folder is None or not _EML.match(name) or not (folder / name).is_file():
        return None
    message = message_from_bytes((folder / name).read_bytes(), policy=policy.default)
    delivery = str(message["X-Commsvc-Delivery"] or "")
    if not _scoped(actor, [{"delivery": delivery}], "delivery"):
        return None
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    return {
        "to": str(message["To"] or ""),
        "subject": str(message["Subject"] or ""),
        "delivery": delivery,
        "text": text.get_content() if text else "",
        "html": html.get_content() if html else "",
    }


def bulletin_of(delivery_id: str) -> int | None:
    """The bulletin a captured message belongs to, from its X-Commsvc-Delivery header."""
    if not delivery_id.isdigit() or int(delivery_id) >= 2**31:
        return None
    delivery = db.session.get(Delivery, int(delivery_id))
    return delivery.bulletin_id if delivery is not None else None


def _scoped(actor: Actor, entries: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    if actor.region_ids is None:
        return entries
    visible = _visible_deliveries(actor, (str(e.get(key, "")) for e in entries))
    return [e for e in entries if str(e.get(key, "")) in visible]


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


def _page(entries: list[dict[str, Any]], search: str, page: int, fields: tuple[str, ...]) -> Page:
    words = search.strip().casefold()
    if words:
        entries = [e for e in entries if any(words in str(e.get(f, "")).casefold() for f in fields)]
    entries = entries[::-1]
    page = max(1, page)
    start = (page - 1) * PAGE_SIZE
    return Page(entries[start : start + PAGE_SIZE], len(entries), page)


def _email_index(folder: Path) -> list[dict[str, Any]]:
    """The sink's index, completed once for files it does not list (captures written
    before it kept one, or by other means): only their headers are read, and added."""
    entries = _read_lines(folder / INDEX)
    if not folder.is_dir():
        return entries
    listed = {str(e.get("file", "")) for e in entries}
    missing = sorted(
        n.name for n in os.scandir(folder) if _EML.match(n.name) and n.name not in listed
    )
    if missing:
        parser = BytesHeaderParser(policy=policy.default)
        added = []
        for name in missing:
            with open(folder / name, "rb") as handle:
                headers = parser.parse(handle)
            added.append(
                {
                    "file": name,
                    "to": str(headers["To"] or ""),
                    "subject": str(headers["Subject"] or ""),
                    "delivery": str(headers["X-Commsvc-Delivery"] or ""),
                }
            )
        with open(folder / INDEX, "a", encoding="utf-8") as index:
            index.writelines(json.dumps(entry) + "\n" for entry in added)
        entries += added
    # One entry per file, even if the sink indexed a file this read had just added.
    unique = {str(e.get("file", "")): e for e in entries}
    return sorted(unique.values(), key=lambda e: (len(e["file"]), e["file"]))


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a crash: skip it
    return entries


def _folder(kind: str) -> Path | None:
    folder = current_app.config.get("COMMSVC_CAPTURE_DIR")
    return Path(folder) / kind if folder else None
