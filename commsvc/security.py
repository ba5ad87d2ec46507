"""Web security settings in one place: cookie flags, rate-limit storage, and the headers
every response carries.

The CSP allows no inline or third-party scripts (pages use /static/admin.js only).
Inline style attributes stay allowed because previews show real email HTML, which
carries inlined styles; styles cannot run code. A view that must be framed by its own
origin (an email preview) may set its own Content-Security-Policy: it is kept.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, abort, request

from commsvc.extensions import limiter

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: Flask-WTF checks the Referer of HTTPS form posts.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def init_app(app: Flask) -> None:
    secure = str(app.config.get("COMMSVC_PUBLIC_URL", "")).startswith("https://")
    app.config.setdefault("SESSION_COOKIE_SECURE", secure)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=app.config["SESSION_COOKIE_SECURE"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["COMMSVC_REDIS_URL"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Throttling must never take logins down with Redis: count in memory meanwhile.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
    app.before_request(_refuse_nul)
    app.after_request(_add_headers)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse_nul() -> None:
    """PostgreSQL cannot store a NUL character in text: a form, query or path that holds
    one is a 400 before any query, on every page (the API checks its JSON bodies too)."""
    values = [v for vs in request.args.listvalues() for v in vs]
    values += [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    if request.mimetype in FORM_TYPES:
        if request.mimetype == FORM_TYPES[0]:
            # Keep the raw body readable for whoever refuses a form where JSON belongs
            # (the API): parsing the form would otherwise consume it.
            request.get_data(cache=True)
        values += [v for vs in request.form.listvalues() for v in vs]
    if any("\x00" in value for value in values):
        abort(400, description="Text may not contain the NUL character.")


def _add_headers(response: Response) -> Response:
    if "frame-ancestors 'self'" in response.headers.get("Content-Security-Policy", ""):
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
