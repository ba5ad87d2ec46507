"""Which language a member page speaks: English or Welsh (Cymraeg).

In order: the language switch link (?lang=cy), the member's own language when they
have chosen one, then the browser's Accept-Language. Member pages are the preference
centre and the answer page (`web/answers`); admin pages stay in English.
"""

from __future__ import annotations

from flask import g, request

from commsvc.services.members.preferences import LANGUAGES


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    member_language = g.get("member_language")
    if member_language in LANGUAGES and member_language != "en":
        return str(member_language)
    if request.blueprint not in ("preferences", "answers"):
        return "en"
    return request.accept_languages.best_match(LANGUAGES) or "en"
