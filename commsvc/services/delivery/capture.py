"""Reading what the local capture sinks kept, for the admin's outbox page (demo, tests).

Listing and searching read the sinks' one-line-per-message indexes, never every file;
only the one email shown is opened and parsed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from flask import current_app

from commsvc.extensions import db
from commsvc.models import Delivery

PAGE_SIZE = 25
_EML = re.compile(r"^\d{7}\.eml$")


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def emails_page(search: str = "", page: int = 1) -> Page:
    """Emails newest first, filtered by recipient or subject (any part, any case)."""
    folder = _folder("email")
    entries = _read_lines(folder / "index.jsonl") if folder else []
    return _page(entries, search, page, ("to", "subject"))


def texts_page(search: str = "", page: int = 1) -> Page:
    """Texts newest first, filtered by number or words."""
    folder = _folder("sms")
    entries = _read_lines(folder / "sms.jsonl") if folder else []
    return _page(entries, search, page, ("to", "body"))


def email_parts(name: str) -> dict[str, str] | None:
    """One captured email's subject, plain text and HTML; None if there is no such file."""
    folder = _folder("email")
    if folder is None or not _EML.match(name) or not (folder / name).is_file():
        return None
    message = message_from_bytes((folder / name).read_bytes(), policy=policy.default)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    return {
        "to": str(message["To"] or ""),
        "subject": str(message["Subject"] or ""),
        "delivery": str(message["X-Commsvc-Delivery"] or ""),
        "text": text.get_content() if text else "",
        "html": html.get_content() if html else "",
    }


def bulletin_of(delivery_id: str) -> int | None:
    """The bulletin a captured message belongs to, from its X-Commsvc-Delivery header."""
    if not delivery_id.isdigit() or int(delivery_id) >= 2**31:
        return None
    delivery = db.session.get(Delivery, int(delivery_id))
    return delivery.bulletin_id if delivery is not None else None


def _page(entries: list[dict[str, Any]], search: str, page: int, fields: tuple[str, ...]) -> Page:
    words = search.strip().casefold()
    if words:
        entries = [e for e in entries if any(words in str(e.get(f, "")).casefold() for f in fields)]
    entries = entries[::-1]
    page = max(1, page)
    start = (page - 1) * PAGE_SIZE
    return Page(entries[start : start + PAGE_SIZE], len(entries), page)


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
