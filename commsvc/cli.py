"""The `commsvc` command group (also under `flask --app commsvc`).

Errors a person can act on (CommsvcError) become a message and exit status 1 here,
in one place.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from commsvc.errors import CommsvcError
from commsvc.models.account import ROLES
from commsvc.queueing import Queues


def _app_without_redis() -> Flask:
    from commsvc import create_app

    return create_app(start_embedded_redis=False)


@click.group(
    cls=FlaskGroup,
    create_app=_app_without_redis,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def main() -> None:
    """commsvc: member communication and bulletin distribution.

    Configure with COMMSVC_* environment variables (see README). Start with
    `commsvc demo` to see the whole system on one machine.
    """


def _friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CommsvcError as error:
            raise click.ClickException(error.detail) from None

    return wrapper


@click.command("init-db")
@with_appcontext
@_friendly
def init_db() -> None:
    """Create the database schema, or upgrade it to the latest version."""
    from flask_migrate import upgrade

    upgrade()
    click.echo(f"Database ready: {_safe_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="organiser", show_default=True)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="A region this account works in; repeat for several. None: all regions for an "
    "admin, no region at all for an organiser or viewer.",
)
@with_appcontext
@_friendly
def create_user(email: str, role: str, regions: tuple[str, ...]) -> None:
    """Create an account that logs in to the admin.

    The password comes from COMMSVC_PASSWORD, or is asked for.
    """
    from commsvc.services.accounts import auth

    password = os.environ.get("COMMSVC_PASSWORD") or click.prompt(
        "Password (at least 10 characters)", hide_input=True, confirmation_prompt=True
    )
    user = auth.create_user(email, password, role, list(regions))
    click.echo(f"Created {user.role} {user.email} ({_scope(user.role, user.regions)}).")


def _scope(role: str, regions: Any) -> str:
    """What an account sees: only an admin sees every region; others see theirs, or none."""
    if role == "admin":
        return "all regions"
    return (
        ", ".join(r.name for r in regions)
        or "no regions: it sees nothing until given one with --region"
    )


@click.command("create-api-key")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="A region the key may act in; repeat for several. None: all regions for an "
    "admin, no region at all for an organiser or viewer.",
)
@with_appcontext
@_friendly
def create_api_key(name: str, role: str, regions: tuple[str, ...]) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    from commsvc.services.accounts import auth

    key, plain = auth.create_api_key(name, role, list(regions))
    scope = _scope(key.role, key.regions)
    click.echo(f"API key {key.name!r} ({key.role}, {scope}). Keep it now: it is not shown again.")
    click.echo(plain)


@click.command("import-members")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; change nothing.")
@with_appcontext
@_friendly
def import_members(file: Path, dry_run: bool) -> None:
    """Import members from a CSV file (upsert by membership number).

    Invalid rows are listed with their line number and reason, and the exit status
    is 1; valid rows still land. A row kept without an unusable address or channel is
    listed as a warning, and warnings alone leave the exit status 0.
    """
    from commsvc.services.members.importer import import_members as run_import

    size = file.stat().st_size
    with (
        open(file, "rb") as stream,
        click.progressbar(length=size, label="Importing", file=sys.stderr) as bar,
    ):

        def progress(_rows: int) -> None:
            bar.update(stream.tell() - bar.pos)

        report = run_import(stream, dry_run=dry_run, progress=progress)
    for error in report.errors:
        click.echo(f"line {error.line}: {error.reason}", err=True)
    for warning in report.warnings:
        click.echo(f"line {warning.line}: warning: {warning.reason}", err=True)
    prefix = "Dry run, nothing saved: would have " if dry_run else ""
    click.echo(
        f"{prefix}{report.rows} rows read: {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.errors)} invalid, {len(report.warnings)} warnings."
    )
    if report.errors:
        sys.exit(1)


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers")
@click.option("--debug", is_flag=True, help="Flask's development server with reloading.")
def web(host: str, port: int, workers: int, debug: bool) -> None:
    """Serve the admin, the preference centre, the API and webhooks."""
    from commsvc import processes

    processes.ensure_redis_env()
    processes.serve_web(host, port, workers, debug)


@click.command("worker")
@click.option(
    "--queues",
    default=",".join(Queues.ALL),
    show_default=True,
    help="Comma-separated queues to consume.",
)
@click.option("--concurrency", default=os.cpu_count() or 2, show_default=True, type=int)
@click.option("--loglevel", default="info", show_default=True)
@click.option(
    "--name",
    default=None,
    help="The worker's node name (default: commsvc-<pid>@<host name>, unique per process, "
    "so two workers on one host, or in two containers with one host name, never clash).",
)
def worker(queues: str, concurrency: int, loglevel: str, name: str | None) -> None:
    """Run a Celery worker that fans out and sends bulletins."""
    from commsvc import processes

    processes.ensure_redis_env()
    processes.run_worker(queues, concurrency, loglevel, name or f"commsvc-{os.getpid()}@%h")


@click.command("beat")
@click.option("--loglevel", default="info", show_default=True)
def beat(loglevel: str) -> None:
    """Run the scheduler: due bulletins and the stuck-delivery sweep."""
    from commsvc import processes

    processes.ensure_redis_env()
    processes.run_beat(loglevel)


@click.command("bounce-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=int)
@with_appcontext
@_friendly
def bounce_server(host: str, port: int) -> None:
    """The SMTP server of COMMSVC_BOUNCE_DOMAIN: bounces, complaints, mailto unsubscribes.

    Point the bounce domain's MX at it (port 25). Recipients other than valid VERP
    addresses, fbl@ and abuse@ are refused.
    """
    from commsvc import bounce_server as server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server.serve(current_app._get_current_object(), host, port)  # type: ignore[attr-defined]


@click.command("check-domain")
@click.argument("domain")
@click.option("--selector", default=None, help="DKIM selector (default: COMMSVC_DKIM_SELECTOR).")
@click.option("--nameserver", default=None, help="Ask this DNS server (HOST[:PORT]) only.")
@with_appcontext
@_friendly
def check_domain(domain: str, selector: str | None, nameserver: str | None) -> None:
    """SPF, DKIM, DMARC and alignment for DOMAIN (the From domain), and what to fix.

    Exit status 1 when something needs fixing.
    """
    from commsvc import domain_check

    config = current_app.config
    key_path = config.get("COMMSVC_DKIM_PRIVATE_KEY")
    public_key = domain_check.public_key_of(Path(key_path).read_bytes()) if key_path else None
    try:
        findings = domain_check.check_domain(
            domain,
            selector or config.get("COMMSVC_DKIM_SELECTOR"),
            config.get("COMMSVC_BOUNCE_DOMAIN"),
            public_key,
            domain_check.resolver_lookup(nameserver),
        )
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    for finding in findings:
        click.echo(f"{'ok ' if finding.ok else 'FIX'}  {finding.topic:9}  {finding.text}")
    if not all(f.ok for f in findings):
        sys.exit(1)


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--members", default=300, show_default=True, type=int, help="How many demo members to create."
)
def demo(port: int, members: int) -> None:
    """Run the whole system on this machine with demo data and capture sinks."""
    from commsvc import demo as demo_module

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    demo_module.run(port=port, member_count=members)


COMMANDS = (
    init_db,
    create_user,
    create_api_key,
    import_members,
    web,
    worker,
    beat,
    bounce_server,
    check_domain,
    demo,
)
for _command in COMMANDS:
    main.add_command(_command)


def init_app(app: Flask) -> None:
    """Make the same commands available as `flask --app commsvc <command>`."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
