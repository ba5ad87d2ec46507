"""The words our email layout says around an organiser's text, in the member's language.

They are Flask-Babel messages (translations/), looked up with the locale forced to the
language of the version being compiled, so a Welsh email's masthead, link texts and
footer are Welsh. Each link text makes sense read alone (screen readers list links).
`{topic}` stands for the bulletin's topic, filled in per bulletin by the template.
"""

from __future__ import annotations

from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

TOPIC = "{topic}"


def layout_words(language: str) -> dict[str, str]:
    """Placeholder name -> text, for templates/email/layout.html."""
    if not has_app_context():  # a bare unit test: the English source strings
        return _words()
    with force_locale(language):
        return _words()


def _words() -> dict[str, str]:
    return {
        "MASTHEAD": _("Union bulletin"),
        "WEB_COPY_TEXT": _("Read this bulletin in your web browser"),
        "WHY": _(
            "You get this because you are a union member in a health and social care partnership."
        ),
        "PREFERENCES_TEXT": _("Choose what you receive from the union"),
        "UNSUBSCRIBE_TEXT": _("Unsubscribe from %(topic)s messages", topic=TOPIC),
        "POSTAL_ADDRESS": _("The Union, 130 Euston Road, London NW1 2AY"),
        "TEXT_PREFERENCES": _("Choose what you receive"),
        "TEXT_UNSUBSCRIBE": _("Unsubscribe"),
        "TEXT_WEB_COPY": _("Read it in your browser"),
    }
