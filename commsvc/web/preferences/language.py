"""Which language a member page speaks: English or Welsh (Cymraeg).

In order: the language switch link (?lang=cy), a switch made earlier in this browser
(remembered in a cookie, so the next page keeps the language), the member's own
language when they have chosen one, then the browser's Accept-Language. Member pages
are the preference centre and the answer page (`web/answers`); admin pages stay in
English. A switch changes only the pages; the language of our messages is the
member's own choice, saved with their other choices.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request
from flask_babel import refresh

from commsvc.services.bulletins import branding
from commsvc.services.members.preferences import LANGUAGES

COOKIE = "commsvc_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES and not (request.blueprint or "").startswith("admin"):
        return remembered
    member_language = g.get("member_language")
    if member_language in LANGUAGES and member_language != "en":
        return str(member_language)
    if request.blueprint not in ("preferences", "answers"):
        return "en"
    return request.accept_languages.best_match(LANGUAGES) or "en"


def remember_switch(response: Any) -> Any:
    """Keep a language switch for the pages that follow (only the language, no id)."""
    asked = request.args.get("lang")
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(
            COOKIE, asked, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax", path="/"
        )
    return response


def member_page(blueprint: Blueprint) -> None:
    """What every page behind a member's link shares: the language worked out afresh for
    each request, and a page that is the member's alone (never cached, its URL never
    sent on as a referrer), and the union's brand of the member's region (name, footer,
    colour; the national one before the member is known)."""
    blueprint.before_request(_fresh_language)
    blueprint.after_request(_no_store)
    blueprint.context_processor(_member_brand)


def _fresh_language() -> None:
    # The locale is cached per app context, which a test client may share across requests.
    g.pop("member_language", None)
    g.pop("member_region_id", None)
    refresh()


def _member_brand() -> dict[str, Any]:
    region_id = g.get("member_region_id")
    return {"member_brand": branding.brand_for(region_id), "brand_region": region_id}


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
