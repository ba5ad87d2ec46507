"""The page that asks before a one-way admin action (revoke a key, lift a suppression,
close a question early), and the check that the POST came from it.

The list pages link to a GET page that says exactly what will happen; its form posts
`confirmed=yes` with the CSRF token. A POST without it (an old page, a stray script)
is sent to that page instead of acting. Bulletins have their own, with counts
(`bulletins.py`, `services/bulletins/stopping.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import render_template, request


def ask_first(
    *, heading: str, sentences: Sequence[str], button: str, action: str, back: str
) -> Any:
    return render_template(
        "admin/ask_first.html",
        heading=heading,
        sentences=sentences,
        button=button,
        action=action,
        back=back,
    )


def confirmed() -> bool:
    return request.form.get("confirmed") == "yes"
