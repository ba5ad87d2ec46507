"""Reading what the local capture sinks kept, for the admin's outbox page."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from flask import current_app


def _folder() -> Path | None:
    folder = current_app.config.get("COMMSVC_CAPTURE_DIR")
    return Path(folder) if folder else None


def recent_emails(limit: int) -> list[dict[str, Any]]:
    folder = _folder()
    if folder is None or not (folder / "email").is_dir():
        return []
    files = sorted((folder / "email").glob("*.eml"), reverse=True)[:limit]
    emails = []
    for path in files:
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


def recent_texts(limit: int) -> list[dict[str, Any]]:
    folder = _folder()
    if folder is None or not (folder / "sms" / "sms.jsonl").exists():
        return []
    lines = (folder / "sms" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in reversed(lines[-limit:])]
