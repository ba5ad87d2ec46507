"""`commsvc demo`: the whole system on one machine, with nothing installed or running.

Starts a private Redis, an SMTP capture sink and an SMS capture sink, seeds demo
data, runs the web app, a worker, beat and the bounce server as child processes, prints the URL and
a login, and on Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
import time
from contextlib import ExitStack

import click
import requests

from commsvc import embedded_redis, processes
from commsvc.sinks.email import EmailSink
from commsvc.sinks.sms import SmsSink

DEMO_ADMIN = "organiser@example.org"
# Two more logins, so approval (a second organiser) and scoping (a viewer) can be tried.
DEMO_REGIONAL = "regional.organiser@example.org"
DEMO_VIEWER = "viewer@example.org"
DEMO_BOUNCE_DOMAIN = "bounces.localhost"
STARTUP_TIMEOUT_SECONDS = 60


def run(port: int, member_count: int) -> None:
    instance = processes.instance_path() / "demo"
    instance.mkdir(parents=True, exist_ok=True)
    capture = instance / "captured"
    with ExitStack() as stack:
        redis_process, redis_url = embedded_redis.start_server(instance)
        stack.callback(_stop, redis_process)
        email_sink = EmailSink(_port_near(8025), capture / "email").start()
        stack.callback(email_sink.stop)
        sms_sink = SmsSink(_port_near(8026), capture / "sms")
        env = {
            **os.environ,
            "COMMSVC_INSTANCE_PATH": str(instance),
            "COMMSVC_REDIS_URL": redis_url,
            "COMMSVC_EMAIL_URL": email_sink.url,
            "COMMSVC_SMS_URL": sms_sink.url,
            "COMMSVC_CAPTURE_DIR": str(capture),
            "COMMSVC_PUBLIC_URL": f"http://127.0.0.1:{port}",
            # VERP on, so the bounce server below has something to read.
            "COMMSVC_BOUNCE_DOMAIN": os.environ.get("COMMSVC_BOUNCE_DOMAIN") or DEMO_BOUNCE_DOMAIN,
        }
        os.environ.update(env)
        password = _seed(member_count)
        from commsvc import create_app

        app = create_app()
        sms_sink.callback_url = f"http://127.0.0.1:{port}/webhooks/sms/status"
        sms_sink.callback_secret = app.config["COMMSVC_WEBHOOK_SECRET"]
        sms_sink.start()
        stack.callback(sms_sink.stop)
        command = [sys.executable, "-m", "commsvc"]
        bounce_port = _port_near(2525)
        for args in (
            ["web", "--port", str(port), "--workers", "2"],
            ["worker", "--concurrency", "2"],
            ["beat"],
            ["bounce-server", "--port", str(bounce_port)],
        ):
            child = subprocess.Popen(command + args, env=env)
            stack.callback(_stop, child)
        _wait_for_web(port)
        click.secho("\ncommsvc demo is running.", fg="green", bold=True)
        click.echo(f"  Admin:    http://127.0.0.1:{port}/login")
        click.echo(f"  Log in:   {DEMO_ADMIN}  password: {password}  (admin)")
        click.echo(
            f"            {DEMO_REGIONAL}  password: {password}  (organiser, North West only)"
        )
        click.echo(f"            {DEMO_VIEWER}  password: {password}  (viewer, North West only)")
        click.echo(f"  Outbox:   http://127.0.0.1:{port}/admin/outbox (what members received)")
        click.echo(f"  Captured: {capture}")
        click.echo(f"  Bounces:  smtp://127.0.0.1:{bounce_port} ({env['COMMSVC_BOUNCE_DOMAIN']})")
        click.echo("Press Ctrl-C to stop everything.\n")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            click.echo("\nStopping the demo...")


def _seed(member_count: int) -> str:
    """Create the schema and the demo data (once), and set a fresh organiser password."""
    from flask_migrate import upgrade

    from commsvc import create_app, demo_data
    from commsvc.extensions import db
    from commsvc.models import Partnership, User
    from commsvc.services.accounts import actors, auth
    from commsvc.services.members import importer, organisation

    app = create_app()
    password = secrets.token_urlsafe(9)
    with app.app_context():
        upgrade()
        if db.session.query(Partnership).count() == 0:
            click.echo("Seeding demo data...")
            organisation.region_named(demo_data.REGION)
            for name, kind, employers in demo_data.PARTNERSHIPS:
                organisation.create_partnership(
                    actors.SYSTEM,
                    {
                        "name": name,
                        "kind": kind,
                        "region": demo_data.REGION,
                        "employers": employers,
                    },
                )
            for topic in demo_data.TOPICS:
                organisation.topic_named(topic, "campaign")
            for topic in demo_data.SERVICE_TOPICS:
                organisation.topic_named(topic, "service")
            db.session.commit()
            importer.import_members(io.BytesIO(demo_data.members_csv(member_count)))
        logins: tuple[tuple[str, str, list[str]], ...] = (
            (DEMO_ADMIN, "admin", []),
            (DEMO_REGIONAL, "organiser", [demo_data.REGION]),
            (DEMO_VIEWER, "viewer", [demo_data.REGION]),
        )
        for email, role, regions in logins:
            user = db.session.query(User).filter_by(email=email).one_or_none()
            if user is None:
                auth.create_user(email, password, role, regions)
            else:
                user.password_hash = auth.hash_password(password)
                db.session.commit()
    return password


def _port_near(preferred: int) -> int:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return embedded_redis.free_port()


def _wait_for_web(port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise click.ClickException(f"the web app did not start on port {port}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    processes.stop_process(process, timeout=15)
