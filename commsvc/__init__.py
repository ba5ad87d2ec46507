"""commsvc: member communication and bulletin distribution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from commsvc import embedded_redis, processes
from commsvc.config import is_sqlite, load_settings

MAX_ID = 2**31 - 1


def create_app(overrides: dict[str, Any] | None = None, start_embedded_redis: bool = True) -> Flask:
    """Build the app: config, extensions, blueprints; nothing else.

    With no COMMSVC_REDIS_URL, the app uses the embedded Redis, starting it if asked;
    commands that never touch Redis (init-db, import-members) pass False so they
    leave no server behind.
    """
    app = Flask(
        __name__,
        instance_path=str(processes.instance_path()),
        instance_relative_config=True,
        template_folder=str(Path(__file__).resolve().parent.parent / "templates"),
    )
    # Ids beyond a 32-bit column cannot exist: such URLs are 404s, not database errors.
    app.url_map.converters["int"] = _IdConverter
    settings = load_settings(Path(app.instance_path))
    app.config.from_mapping(settings.as_flask_config())
    if overrides:
        app.config.update(overrides)
    if not app.config["COMMSVC_REDIS_URL"]:
        instance_path = Path(app.instance_path)
        app.config["COMMSVC_REDIS_URL"] = (
            embedded_redis.ensure_running(instance_path)
            if start_embedded_redis
            else embedded_redis.running_url(instance_path) or embedded_redis.NOT_STARTED_URL
        )

    from commsvc import extensions, logs, metrics, queueing, redis_store, security
    from commsvc.services.accounts import auth
    from commsvc.web import admin, answers, api, ops, preferences, webhooks

    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app,
        extensions.db,
        directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]),
    )
    extensions.csrf.init_app(app)
    security.init_app(app)
    logs.init_app(app)
    extensions.babel.init_app(
        app,
        default_translation_directories=str(
            Path(__file__).resolve().parent.parent / "translations"
        ),
        locale_selector=preferences.select_locale,
    )
    auth.init_app(app)
    redis_store.init_app(app)
    queueing.celery_init_app(app)
    metrics.init_app(app)
    _tune_sqlite(app)
    _tune_postgresql(app)

    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(preferences.bp)
    app.register_blueprint(answers.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(ops.bp)
    extensions.csrf.exempt(api.bp)
    extensions.csrf.exempt(webhooks.bp)

    from commsvc import cli

    cli.init_app(app)
    return app


class _IdConverter(IntegerConverter):
    """`<int:...>` bounded to what an INTEGER primary key can hold."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


# How long PostgreSQL waits before it probes a silent connection of ours, between
# probes, and how many go unanswered before it drops the connection: about 2 minutes.
POSTGRESQL_KEEPALIVES = {"idle": 60, "interval": 10, "count": 6}


def _tune_postgresql(app: Flask) -> None:
    """The server drops a connection of ours that went silent within about two minutes,
    not the kernel's two hours: a worker host lost between an UPDATE and its COMMIT
    holds that transaction's row locks until then, and its deliveries cannot be taken
    back before. Set per connection (the settings are the session's own), so nothing
    needs changing in postgresql.conf; connections over a Unix socket ignore them."""
    if is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
        return
    from sqlalchemy import event

    from commsvc.extensions import db

    settings = "; ".join(
        f"SET tcp_keepalives_{name} = {value}" for name, value in POSTGRESQL_KEEPALIVES.items()
    )
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(settings)
            dbapi_connection.commit()  # a rollback would undo them


def _tune_sqlite(app: Flask) -> None:
    """WAL lets the web app read while a worker writes; a busy timeout rides out locks."""
    if not is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
        return
    from sqlalchemy import event

    from commsvc.extensions import db

    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
