"""Who is acting: accounts, API keys, passwords, and the regions an actor may see.

Scoping lives here and nowhere else: services ask `region_filter(actor)` and
`ensure_can_write(actor)`, so the admin, the API and exports cannot disagree.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask
from sqlalchemy import select

from commsvc.errors import Forbidden, ValidationError
from commsvc.extensions import db, login_manager
from commsvc.models import ApiKey, Region, User
from commsvc.models.account import ROLES
from commsvc.models.base import utcnow

_hasher = PasswordHasher()
API_KEY_PREFIX = "csk_"


@dataclass(frozen=True)
class Actor:
    """An account or API key reduced to what decisions need."""

    label: str
    role: str
    region_ids: frozenset[int] | None  # None: every region

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "organiser")


SYSTEM = Actor(label="system", role="admin", region_ids=None)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def actor_for(account: User | ApiKey) -> Actor:
    regions = frozenset(r.id for r in account.regions)
    all_regions = account.role == "admin" or not regions
    return Actor(
        label=account.label, role=account.role, region_ids=None if all_regions else regions
    )


def ensure_can_write(actor: Actor) -> None:
    if not actor.can_write:
        raise Forbidden("This account can read but not change anything.")


def can_see_region(actor: Actor, region_id: int) -> bool:
    return actor.region_ids is None or region_id in actor.region_ids


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
    _audit(actor_label, "user.create", f"user {user.id}", email=email, role=role)
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
    _audit(actor_label, "api_key.create", f"api key {key.id}", name=name, role=role)
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


def _audit(actor_label: str, action: str, target: str, **detail: str) -> None:
    from commsvc.services import audit  # late: the audit service builds on this module

    audit.record(actor_label, action, target, **detail)


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
