"""Proving who is acting: passwords, API keys and the login session.

What an actor may then see and change is decided in `actors`.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, session
from flask_login import login_user
from sqlalchemy import select

from commsvc.errors import ValidationError
from commsvc.extensions import db, login_manager
from commsvc.models import ApiKey, Region, User
from commsvc.models.account import ROLES
from commsvc.models.base import utcnow
from commsvc.services.accounts import audit

_hasher = PasswordHasher()
API_KEY_PREFIX = "csk_"
_PASSWORD_MARK = "_password_mark"  # noqa: S105 (a session key name, not a secret)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active:
        return None
    # A session opened before the password changed (a reset) no longer counts.
    if session.get(_PASSWORD_MARK) != password_mark(user):
        return None
    return user


def start_session(user: User) -> None:
    """Log a person in, tying the session to their current password."""
    login_user(user)
    session[_PASSWORD_MARK] = password_mark(user)


def password_mark(user: User) -> str:
    """A short fingerprint of the password hash: changes whenever the password does."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValidationError("A password needs at least 10 characters.")
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    email: str, password: str, role: str, region_names: list[str], actor_label: str = "cli"
) -> User:
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}")
    email = email.strip().lower()
    if db.session.scalar(select(User).where(User.email == email)):
        raise ValidationError(f"An account for {email} exists already.")
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        regions=_regions(region_names),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor_label, "user.create", f"user {user.id}", email=email, role=role)
    db.session.commit()
    return user


def create_api_key(
    name: str, role: str, region_names: list[str], actor_label: str = "cli"
) -> tuple[ApiKey, str]:
    """Make a key; the plain key is returned once and only its hash is stored."""
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}")
    plain = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=plain[:12],
        key_hash=_digest(plain),
        role=role,
        regions=_regions(region_names),
    )
    db.session.add(key)
    db.session.flush()
    audit.record(actor_label, "api_key.create", f"api key {key.id}", name=name, role=role)
    db.session.commit()
    return key, plain


def authenticate_api_key(plain: str) -> ApiKey | None:
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(plain)))
    if key is None or key.revoked_at is not None:
        return None
    now = utcnow()
    # A write per request would be wasteful; a minute's precision is what people read.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        key.last_used_at = now
        db.session.commit()
    return key


def _digest(plain: str) -> str:
    # API keys are long random strings: a fast hash is enough, unlike passwords.
    return hashlib.sha256(plain.encode()).hexdigest()


def _regions(names: list[str]) -> list[Region]:
    regions = []
    for name in names:
        region = db.session.scalar(select(Region).where(Region.name == name.strip()))
        if region is None:
            raise ValidationError(f"There is no region called {name!r}.")
        regions.append(region)
    return regions
