"""Staff accounts and API keys: listing, revoking, logging in, resetting passwords.

Only admins manage accounts and keys. A password-reset token is signed, expires, and
carries a fingerprint of the current password hash, so it works once: after the
reset the hash changes and the token no longer matches. Requests for unknown
addresses look exactly like requests for known ones.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from commsvc.errors import ConfigError, Forbidden, NotFound, ValidationError
from commsvc.extensions import db
from commsvc.models import ApiKey, User
from commsvc.models.account import ROLES
from commsvc.models.base import utcnow
from commsvc.services.accounts import audit, auth
from commsvc.services.accounts.actors import Actor

RESET_MAX_AGE_SECONDS = 3600
_RESET_SALT = "commsvc.password-reset"
SMTP_TIMEOUT_SECONDS = 20


def ensure_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden("Only admins manage accounts and API keys.")


def list_users(actor: Actor) -> list[User]:
    ensure_admin(actor)
    return list(db.session.scalars(select(User).order_by(User.email)))


def list_api_keys(actor: Actor) -> list[ApiKey]:
    ensure_admin(actor)
    return list(
        db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.name))
    )


def create_user(
    actor: Actor, email: str, password: str, role: str, region_names: list[str]
) -> User:
    ensure_admin(actor)
    return auth.create_user(email, password, role, region_names, actor_label=actor.label)


def update_user(actor: Actor, user_id: int, role: str, active: bool) -> User:
    """Change a person's role, or switch their account off (a leaver) or on again.

    An admin cannot demote or switch off their own account, so the last admin can
    never lock everyone out. A switched-off account's open sessions end at once.
    """
    ensure_admin(actor)
    user = db.session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise NotFound(f"There is no account {user_id}.")
    if role not in ROLES:
        raise ValidationError(f"The role must be one of: {', '.join(ROLES)}.")
    if user.email == actor.label and (role != "admin" or not active):
        raise ValidationError(
            "You cannot take away your own admin rights or switch off your own account: "
            "ask another admin."
        )
    changes = {}
    if role != user.role:
        changes["role"] = f"{user.role} -> {role}"
        user.role = role
    if active != user.active:
        changes["active"] = f"{user.active} -> {active}"
        user.active = active
    if changes:
        audit.record(actor.label, "user.update", f"user {user.email}", **changes)
        db.session.commit()
    return user


def create_api_key(
    actor: Actor, name: str, role: str, region_names: list[str]
) -> tuple[ApiKey, str]:
    ensure_admin(actor)
    if not name.strip() or len(name) > 120:
        raise ValidationError("A key needs a name of at most 120 characters.")
    return auth.create_api_key(name.strip(), role, region_names, actor_label=actor.label)


def get_api_key(actor: Actor, key_id: int) -> ApiKey:
    """One key, for the page that asks before revoking it."""
    ensure_admin(actor)
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"There is no API key {key_id}.")
    return key


def revoke_api_key(actor: Actor, key_id: int) -> ApiKey:
    ensure_admin(actor)
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"There is no API key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(actor.label, "api_key.revoke", f"api key {key.id}", name=key.name)
        db.session.commit()
    return key


def log_in(email: str, password: str, address: str) -> User | None:
    """The account these credentials open, or None; both outcomes are audited."""
    email = email.strip().lower()[:254]
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.active or not auth.check_password(user, password):
        audit.record(email or "(blank)", "login.failed", "", address=address)
        db.session.commit()
        return None
    audit.record(user.email, "login", "", address=address)
    db.session.commit()
    return user


def request_password_reset(email: str) -> None:
    """Email a reset link if the address has an account; say nothing either way.

    The link is built on COMMSVC_PUBLIC_URL, never on the request's Host header, which
    an attacker could set to their own site.
    """
    email = email.strip().lower()[:254]
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.active:
        return
    token = _serializer().dumps({"u": user.id, "h": auth.password_mark(user)})
    link = f"{current_app.config['COMMSVC_PUBLIC_URL']}/password-reset/{token}"
    audit.record(user.email, "password.reset_requested", f"user {user.id}")
    db.session.commit()
    send_account_email(
        user.email,
        "Reset your commsvc password",
        "Someone asked to reset the password of your commsvc account.\n\n"
        f"To choose a new password, open this link within an hour:\n{link}\n\n"
        "If it was not you, ignore this email: your password stays as it is.\n",
    )


def user_for_reset_token(token: str) -> User:
    """The account a reset token is for; raise ValidationError if it is not valid now."""
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE_SECONDS)
    except BadSignature:
        raise ValidationError(
            "This reset link is not valid or has expired. Ask for a new one."
        ) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("h") != auth.password_mark(user):
        raise ValidationError("This reset link has been used already. Ask for a new one.")
    return user


def reset_password(token: str, password: str) -> User:
    user = user_for_reset_token(token)
    user.password_hash = auth.hash_password(password)
    audit.record(user.email, "password.reset", f"user {user.id}")
    db.session.commit()
    return user


def send_account_email(to: str, subject: str, text: str) -> None:
    """One plain email through the configured SMTP server (account mail, not bulletins)."""
    config = current_app.config
    parts = urlsplit(config["COMMSVC_EMAIL_URL"])
    if parts.scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise ConfigError("Account emails need COMMSVC_EMAIL_URL to be an SMTP server.")
    message = EmailMessage()
    message["From"] = config["COMMSVC_EMAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
    context = ssl.create_default_context()
    connection = (
        smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
        if parts.scheme == "smtps"
        else smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    )
    with connection:
        if parts.scheme == "smtp+starttls":
            connection.starttls(context=context)
        if parts.username:
            connection.login(unquote(parts.username), unquote(parts.password or ""))
        connection.send_message(message)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)
