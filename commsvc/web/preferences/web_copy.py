"""The web copy of a bulletin: a member's own (signed, expiring link from their email)
and a partnership's public archive. GET only; nothing here changes anything."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request, url_for
from flask_babel import get_locale

from commsvc.errors import NotFound
from commsvc.services.bulletins import links, web_copy
from commsvc.services.members import preferences
from commsvc.web.preferences import bad_link_page, bp, language_switch, missing


@bp.get("/w/<token>")
def member_web_copy(token: str) -> Any:
    try:
        public_id, bulletin_id = links.read_web_copy_token(current_app.config["SECRET_KEY"], token)
    except links.LinkError as problem:
        return bad_link_page(problem)
    member = preferences.member_by_public_id(public_id)
    if member is None:
        return bad_link_page(missing())
    g.member_language = member.language
    g.member_region_id = member.region_id
    try:
        return web_copy.member_copy(bulletin_id, member)
    except NotFound:
        return bad_link_page(missing())


@bp.get("/archive/<int:partnership_id>")
def archive(partnership_id: int) -> Any:
    try:
        partnership, bulletins = web_copy.public_bulletins(partnership_id, str(get_locale()))
    except NotFound:
        return bad_link_page(missing())
    return render_template(
        "preferences/archive.html",
        partnership=partnership,
        bulletins=bulletins,
        **language_switch(),
    )


@bp.get("/archive/<int:partnership_id>/<int:bulletin_id>")
def archived_bulletin(partnership_id: int, bulletin_id: int) -> Any:
    archive_url = request.host_url.rstrip("/") + url_for(
        "preferences.archive", partnership_id=partnership_id
    )
    try:
        return web_copy.public_copy(partnership_id, bulletin_id, str(get_locale()), archive_url)
    except NotFound:
        return bad_link_page(missing())
