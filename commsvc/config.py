"""Every COMMSVC_* setting, its default and its check, in one place.

Configuration comes only from the environment. Defaults make the embedded mode
work with nothing set: SQLite and secrets in the instance folder, an embedded
Redis, local capture sinks. Nothing here opens a connection except the embedded
Redis start-up, which the app factory asks for explicitly.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commsvc import providers
from commsvc.errors import ConfigError

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
DEFAULT_EMAIL_FROM = "bulletins@localhost"
DEFAULT_SMS_FROM = "UNION"
# Where `commsvc demo` starts its capture sinks; also the default when nothing is set,
# so a single machine sends to something it can look at rather than to the world.
DEFAULT_EMAIL_URL = "smtp://127.0.0.1:8025"
DEFAULT_SMS_URL = "http://127.0.0.1:8026/send"

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_DKIM_SELECTOR = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$")
# UK networks let nobody reply to an alphanumeric sender: a reply number is digits.
_SMS_REPLY_NUMBER = re.compile(r"^\+?[0-9]{5,15}$")
_SMS_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$|^\+?[0-9]{3,15}$")


@dataclass(frozen=True)
class Settings:
    """The resolved settings; `as_flask_config` hands them to Flask and Celery."""

    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    public_url: str
    email_url: str
    email_from: str
    sms_url: str
    sms_from: str
    webhook_secret: str
    # A number members can reply to; texts that ask a question go from it (see questions.py).
    sms_reply_from: str = ""
    batch_size: int = 500
    max_attempts: int = 5
    stuck_after_seconds: int = 600
    schedule_sweep_seconds: float = 15.0
    email_rate: float = 100.0
    sms_rate: float = 30.0
    provider_concurrency: int = 10
    http_timeout_seconds: float = 15.0
    retry_base_seconds: float = 10.0
    retry_max_age_seconds: int = 86400
    provider_penalty_seconds: int = 300
    worker_dead_after_seconds: int = 60
    fanout_lost_after_seconds: int = 60
    smtp_data_timeout_seconds: float = 600.0
    bounce_domain: str | None = None
    dkim_selector: str | None = None
    dkim_private_key: str | None = None
    soft_bounce_limit: int = 3
    extra: dict[str, Any] = field(default_factory=dict)

    def as_flask_config(self) -> dict[str, Any]:
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(self.database_url),
            "COMMSVC_REDIS_URL": self.redis_url,
            "COMMSVC_PUBLIC_URL": self.public_url,
            "COMMSVC_EMAIL_URL": self.email_url,
            "COMMSVC_EMAIL_FROM": self.email_from,
            "COMMSVC_SMS_URL": self.sms_url,
            "COMMSVC_SMS_FROM": self.sms_from,
            "COMMSVC_SMS_REPLY_FROM": self.sms_reply_from,
            "COMMSVC_WEBHOOK_SECRET": self.webhook_secret,
            "COMMSVC_BATCH_SIZE": self.batch_size,
            "COMMSVC_MAX_ATTEMPTS": self.max_attempts,
            "COMMSVC_STUCK_AFTER_SECONDS": self.stuck_after_seconds,
            "COMMSVC_SCHEDULE_SWEEP_SECONDS": self.schedule_sweep_seconds,
            "COMMSVC_EMAIL_RATE": self.email_rate,
            "COMMSVC_SMS_RATE": self.sms_rate,
            "COMMSVC_PROVIDER_CONCURRENCY": self.provider_concurrency,
            "COMMSVC_HTTP_TIMEOUT_SECONDS": self.http_timeout_seconds,
            "COMMSVC_RETRY_BASE_SECONDS": self.retry_base_seconds,
            "COMMSVC_RETRY_MAX_AGE_SECONDS": self.retry_max_age_seconds,
            "COMMSVC_PROVIDER_PENALTY_SECONDS": self.provider_penalty_seconds,
            "COMMSVC_WORKER_DEAD_AFTER_SECONDS": self.worker_dead_after_seconds,
            "COMMSVC_FANOUT_LOST_AFTER_SECONDS": self.fanout_lost_after_seconds,
            "COMMSVC_SMTP_DATA_TIMEOUT_SECONDS": self.smtp_data_timeout_seconds,
            "COMMSVC_BOUNCE_DOMAIN": self.bounce_domain,
            "COMMSVC_DKIM_SELECTOR": self.dkim_selector,
            "COMMSVC_DKIM_PRIVATE_KEY": self.dkim_private_key,
            "COMMSVC_SOFT_BOUNCE_LIMIT": self.soft_bounce_limit,
            "COMMSVC_CAPTURE_DIR": self.extra.get("capture_dir"),
            "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.public_url.startswith("https://"),
            "WTF_CSRF_TIME_LIMIT": None,
        }


def load_settings(instance_path: Path, env: Any = None) -> Settings:
    """Read the environment, fill defaults, and refuse values that cannot work."""
    env = os.environ if env is None else env
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = normalise_database_url(
        env.get("COMMSVC_DATABASE_URL") or f"sqlite:///{instance_path / 'commsvc.sqlite3'}"
    )
    public_url = (env.get("COMMSVC_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        raise ConfigError("COMMSVC_PUBLIC_URL must start with http:// or https://")
    sms_from = env.get("COMMSVC_SMS_FROM") or DEFAULT_SMS_FROM
    if not _SMS_SENDER_ID.match(sms_from):
        raise ConfigError(
            "COMMSVC_SMS_FROM must be a sender ID of at most 11 letters and digits, or a number"
        )
    sms_reply_from = (env.get("COMMSVC_SMS_REPLY_FROM") or "").strip()
    if sms_reply_from and not _SMS_REPLY_NUMBER.match(sms_reply_from):
        raise ConfigError(
            "COMMSVC_SMS_REPLY_FROM must be a phone number members can reply to, e.g. +447700900123"
        )
    email_url = env.get("COMMSVC_EMAIL_URL") or DEFAULT_EMAIL_URL
    providers.parse("email", email_url)  # raises ConfigError for a URL that cannot work
    sms_url = env.get("COMMSVC_SMS_URL") or DEFAULT_SMS_URL
    providers.parse("sms", sms_url)
    dkim_selector, dkim_key = _dkim(env)
    return Settings(
        instance_path=instance_path,
        database_url=database_url,
        redis_url=env.get("COMMSVC_REDIS_URL") or None,
        secret_key=env.get("COMMSVC_SECRET_KEY") or _kept_secret(instance_path / "secret_key"),
        public_url=public_url,
        email_url=email_url,
        email_from=env.get("COMMSVC_EMAIL_FROM") or DEFAULT_EMAIL_FROM,
        sms_url=sms_url,
        sms_from=sms_from,
        sms_reply_from=sms_reply_from,
        webhook_secret=env.get("COMMSVC_WEBHOOK_SECRET")
        or _kept_secret(instance_path / "webhook_secret"),
        batch_size=_positive_int(env, "COMMSVC_BATCH_SIZE", 500),
        max_attempts=_positive_int(env, "COMMSVC_MAX_ATTEMPTS", 5),
        stuck_after_seconds=_positive_int(env, "COMMSVC_STUCK_AFTER_SECONDS", 600),
        schedule_sweep_seconds=_positive_number(env, "COMMSVC_SCHEDULE_SWEEP_SECONDS", 15.0),
        email_rate=_positive_number(env, "COMMSVC_EMAIL_RATE", 100.0),
        sms_rate=_positive_number(env, "COMMSVC_SMS_RATE", 30.0),
        provider_concurrency=_positive_int(env, "COMMSVC_PROVIDER_CONCURRENCY", 10),
        http_timeout_seconds=_positive_number(env, "COMMSVC_HTTP_TIMEOUT_SECONDS", 15.0),
        retry_base_seconds=_positive_number(env, "COMMSVC_RETRY_BASE_SECONDS", 10.0),
        retry_max_age_seconds=_positive_int(env, "COMMSVC_RETRY_MAX_AGE_SECONDS", 86400),
        provider_penalty_seconds=_positive_int(env, "COMMSVC_PROVIDER_PENALTY_SECONDS", 300),
        worker_dead_after_seconds=_positive_int(env, "COMMSVC_WORKER_DEAD_AFTER_SECONDS", 60),
        fanout_lost_after_seconds=_positive_int(env, "COMMSVC_FANOUT_LOST_AFTER_SECONDS", 60),
        smtp_data_timeout_seconds=_positive_number(env, "COMMSVC_SMTP_DATA_TIMEOUT_SECONDS", 600.0),
        bounce_domain=_domain(env, "COMMSVC_BOUNCE_DOMAIN"),
        dkim_selector=dkim_selector,
        dkim_private_key=dkim_key,
        soft_bounce_limit=_positive_int(env, "COMMSVC_SOFT_BOUNCE_LIMIT", 3),
        extra={"capture_dir": env.get("COMMSVC_CAPTURE_DIR") or str(instance_path / "captured")},
    )


def normalise_database_url(url: str) -> str:
    """Accept URLs as people write them and pick the driver commsvc ships with."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite://", "postgresql+")):
        return url
    raise ConfigError("COMMSVC_DATABASE_URL must be a postgresql:// or sqlite:/// URL")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _engine_options(url: str) -> dict[str, Any]:
    if is_sqlite(url):
        # Web, worker and beat are separate processes sharing one file.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}


def _kept_secret(path: Path) -> str:
    """Generate a secret once and keep it, so restarts keep links and sessions valid."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    # Open exclusively so two processes starting together agree on one secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def _domain(env: Any, name: str) -> str | None:
    raw = (env.get(name) or "").strip().lower().rstrip(".")
    if not raw:
        return None
    if not _DOMAIN.match(raw):
        raise ConfigError(f"{name} must be a domain name such as bounces.union.example")
    return raw


def _dkim(env: Any) -> tuple[str | None, str | None]:
    """Both DKIM settings or neither; the key must be an RSA (2048+) or Ed25519 PEM."""
    selector = (env.get("COMMSVC_DKIM_SELECTOR") or "").strip() or None
    key = (env.get("COMMSVC_DKIM_PRIVATE_KEY") or "").strip() or None
    if bool(selector) != bool(key):
        raise ConfigError("set both COMMSVC_DKIM_SELECTOR and COMMSVC_DKIM_PRIVATE_KEY, or neither")
    if selector and not _DKIM_SELECTOR.match(selector):
        raise ConfigError("COMMSVC_DKIM_SELECTOR must be letters, digits, dots and hyphens")
    if key and not Path(key).is_file():
        raise ConfigError(f"COMMSVC_DKIM_PRIVATE_KEY {key} is not a readable file")
    if selector and key:
        from commsvc.services.bulletins.dkim_signature import signer_for

        signer_for(selector, "localhost", key)  # a key that cannot sign is refused now
    return selector, key


def _positive_int(env: Any, name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1")
    return value


def _positive_number(env: Any, name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be more than 0")
    return value
