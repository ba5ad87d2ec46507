"""Shared set-up for the benchmarks: a throw-away PostgreSQL database, a private Redis,
real web, worker and beat processes, seeding and waiting (tables and profiles:
bench/report.py; memory and CPU: bench/watch.py).

Everything started here is stopped by the same context manager that started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from commsvc import embedded_redis, processes

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CORES = os.cpu_count() or 1
SEED_CHUNK = 5000
SEND_TIMEOUT_SECONDS = 1800
SLOWEST_RATE = 100  # messages/s: below this a send is taken as stuck, not slow
START_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 15  # a warm shutdown finishes the task in hand; then SIGKILL
PR_SET_PDEATHSIG = 1  # prctl(2)
_LIBC = ctypes.CDLL(None, use_errno=True)
BATCH_SIZE = 500  # the product's default COMMSVC_BATCH_SIZE
UNLIMITED_RATE = "1000000"  # messages/s: a provider limit the bench never reaches
REGION = "North West"  # the seeded partnership's, and the bench API key's scope
SUBJECT = "Pay offer: have your say, {{ member.first_name }}"
EMAIL_BODY = (
    "Dear {{ member.first_name }},\n\n"
    "The **{{ partnership.name }}** pay offer is out. Your branch, {{ member.branch }}, "
    "meets next week to talk it through.\n\n"
    + (
        "The offer covers every grade in the partnership and backdates the rise to April. "
        "Read the full text, talk to your rep, and vote before the ballot closes.\n\n"
    )
    * 3
    + "[Choose what you receive]({{ preferences_url }})"
)
SMS_BODY = "Hi {{ member.first_name }}, the pay offer is out. Vote by Friday."


@dataclass
class Stack:
    """The environment every process of one benchmark run shares."""

    env: dict[str, str]
    workdir: Path
    redis: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def restart_redis(self) -> None:
        """Stop Redis and start an empty one on the same port: queues and counters gone."""
        port = int(self.env["COMMSVC_REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
        stop(self.redis)
        self.redis, _url = embedded_redis.start_server(self.workdir, port)


@contextlib.contextmanager
def stack(
    email_url: str = "", sms_url: str = "", batch_size: int = BATCH_SIZE, **extra: str
) -> Iterator[Stack]:
    """A fresh PostgreSQL database and a private Redis; both gone afterwards."""
    with tempfile.TemporaryDirectory(prefix="commsvc-bench-") as tmp, database() as db_url:
        workdir = Path(tmp)
        redis_process, redis_url = embedded_redis.start_server(workdir)
        env = {
            "COMMSVC_INSTANCE_PATH": str(workdir / "instance"),
            "COMMSVC_DATABASE_URL": db_url,
            "COMMSVC_REDIS_URL": redis_url,
            "COMMSVC_SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "COMMSVC_WEBHOOK_SECRET": "bench-webhook-secret",
            "COMMSVC_PUBLIC_URL": "http://127.0.0.1:5000",
            "COMMSVC_EMAIL_FROM": "bulletins@union.example",
            "COMMSVC_EMAIL_URL": email_url or "smtp://127.0.0.1:1",
            "COMMSVC_SMS_URL": sms_url or "http://127.0.0.1:1/send",
            "COMMSVC_BATCH_SIZE": str(batch_size),
            **extra,
        }
        os.environ.update(env)
        running = Stack(env=env, workdir=workdir, redis=redis_process)
        try:
            run_cli(env, "init-db")
            yield running
        finally:
            stop_all([*running.workers, running.redis])


def start_worker(running: Stack, concurrency: int = CORES, log_name: str = "worker") -> Any:
    """A real `commsvc worker` process; its log (INFO) goes to a file in the workdir."""
    args = ["worker", "--concurrency", str(concurrency), "--loglevel", "info"]
    return _start(running, args, log_name, "ready.")


def start_beat(running: Stack) -> Any:
    """`commsvc beat`, for the sweeps that repair what a crash left behind."""
    return _start(running, ["beat", "--loglevel", "info"], "beat", "beat: Starting")


def start_web(running: Stack, port: int) -> Any:
    """`commsvc web` (gunicorn, its default workers and threads) on that port, once
    /healthz answers 200: the database, Redis and a worker are all reachable."""
    process = _start(running, ["web", "--port", str(port)], "web", "Listening at:")
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=5).status_code == 200:
                return process
        time.sleep(0.2)
    raise RuntimeError(f"{url} not healthy within {START_TIMEOUT_SECONDS} s: see web.log")


def _start(running: Stack, args: list[str], log_name: str, ready: str) -> Any:
    log = open(running.workdir / f"{log_name}.log", "ab")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "commsvc", *args],
        env={**os.environ, **running.env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a Ctrl-C reaches the bench, which stops it in order
        preexec_fn=die_with_parent,
    )
    running.workers.append(process)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"commsvc {args[0]} exited with status {process.returncode}")
        if ready in (running.workdir / f"{log_name}.log").read_text(errors="replace"):
            return process
        time.sleep(0.2)
    raise RuntimeError(f"commsvc {args[0]} did not start within {START_TIMEOUT_SECONDS} s")


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    processes.stop_process(process, timeout)


def stop_all(started: list[subprocess.Popen[bytes]], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM to every process at once, then SIGKILL to the process group of whatever
    is still there at the deadline (a worker's pool, gunicorn's workers). One after
    another, each with its own wait, a loaded run took over a minute to stop; a
    second Ctrl-C while waiting goes straight to the SIGKILL."""
    alive = [process for process in started if process.poll() is None]
    for process in alive:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    deadline = time.monotonic() + timeout
    try:
        for process in alive:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0.01))
    finally:
        for process in alive:
            if process.poll() is None:
                _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        group = os.getpgid(process.pid)
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        if group == process.pid:  # its own session: take its children with it
            os.killpg(group, signal.SIGKILL)
        else:
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def die_with_parent() -> None:
    """In the child before it runs: SIGTERM when the bench dies, even by SIGKILL, so no
    web, worker or beat is left running for a person to find and stop by hand."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # loaded before the fork: no locks here


def seed(members: int, *, with_mobile: bool = False) -> int:
    """N members of one Section 31 partnership, inserted in bulk; returns its id."""
    from sqlalchemy import insert

    from commsvc.extensions import db
    from commsvc.models import Member
    from commsvc.models.base import utcnow
    from commsvc.models.member import new_public_id
    from commsvc.services.accounts import actors
    from commsvc.services.members import importer, organisation

    region = organisation.region_named(REGION)
    partnership = organisation.create_partnership(
        actors.SYSTEM,
        {
            "name": "Salford Integrated Care Section 31 Partnership",
            "kind": "section_31_partnership",
            "region": REGION,
            "employers": ["Salford Royal NHS Foundation Trust", "Salford City Council"],
        },
    )
    organisation.topic_named("bargaining", "campaign")
    db.session.commit()
    employer_ids = [e.id for e in partnership.employers]
    now = utcnow()
    progress = Progress("seeded", members)
    for start in range(0, members, SEED_CHUNK):
        rows = [
            {
                "membership_number": f"B{n:07d}",
                "public_id": new_public_id(),
                "first_name": f"Name{n}",
                "last_name": f"Member{n}",
                "email": f"member{n}@example.org",
                "mobile": f"+4479{n:08d}" if with_mobile else None,
                "region_id": region.id,
                "employer_id": employer_ids[n % len(employer_ids)],
                "service_group": "health" if n % 2 else "local_government",
                "workplace": "Intermediate Care Unit",
                "job_title": "Staff Nurse",
                "language": "en",
                "email_enabled": True,
                "sms_enabled": True,
                "all_topics": True,
                "opted_out": False,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(start, min(start + SEED_CHUNK, members))
        ]
        db.session.execute(insert(Member), rows)
        db.session.commit()
        progress.show(min(start + SEED_CHUNK, members))
    importer.refresh_statistics()  # as an import of this size does as it goes
    return int(partnership.id)


def bulletin_fields(partnership_id: int, channels: list[str]) -> dict[str, Any]:
    """The bulletin every benchmark sends, as the API's `POST /bulletins` takes it."""
    return {
        "partnership": partnership_id,
        "title": "Pay offer consultation",
        "topic": "bargaining",
        "channels": channels,
        "subject": SUBJECT,
        "email_body": EMAIL_BODY,
        "sms_body": SMS_BODY,
        "audience": {},
    }


def create_bulletin(partnership_id: int, channels: list[str]) -> int:
    from commsvc.services.accounts import actors
    from commsvc.services.bulletins import composing

    bulletin = composing.create_bulletin(actors.SYSTEM, bulletin_fields(partnership_id, channels))
    return int(bulletin.id)


def send_timeout(members: int) -> float:
    """How long a send may take before the bench gives up: grows with the audience."""
    return max(SEND_TIMEOUT_SECONDS, START_TIMEOUT_SECONDS + members / SLOWEST_RATE)


class Progress:
    """A line every ~10 s, so a long run shows it is alive: how far, how fast."""

    EVERY_SECONDS = 10.0

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total = what, total
        self.started = self._last = time.monotonic()

    def show(self, done: int) -> None:
        now = time.monotonic()
        if now - self._last < self.EVERY_SECONDS:
            return
        self._last = now
        elapsed = now - self.started
        rate = done / elapsed
        print(
            f"  {elapsed:6.0f} s: {self.what} {done:,} of {self.total:,} ({rate:,.0f}/s)",
            flush=True,
        )


def send_now(bulletin_id: int) -> datetime:
    """Start sending; returns the moment (naive UTC, as the database stores it)."""
    from commsvc.extensions import db
    from commsvc.models import Bulletin
    from commsvc.models.base import utcnow
    from commsvc.services.accounts import actors
    from commsvc.services.bulletins import lifecycle

    bulletin = db.session.get(Bulletin, bulletin_id)
    assert bulletin is not None
    started = utcnow()
    lifecycle.send(actors.SYSTEM, bulletin)
    return started


def delivery_counts(bulletin_id: int) -> dict[str, int]:
    from commsvc.extensions import db
    from commsvc.tracking import counts_from_database

    db.session.rollback()  # a fresh snapshot each time
    return counts_from_database(bulletin_id)


def sent_times(bulletin_id: int) -> tuple[datetime, datetime, datetime | None]:
    """(first sent_at, last sent_at, fanned_out_at) from the database."""
    from sqlalchemy import func, select

    from commsvc.extensions import db
    from commsvc.models import Bulletin, Delivery

    db.session.rollback()
    first, last = db.session.execute(
        select(func.min(Delivery.sent_at), func.max(Delivery.sent_at)).where(
            Delivery.bulletin_id == bulletin_id
        )
    ).one()
    fanned = db.session.scalar(select(Bulletin.fanned_out_at).where(Bulletin.id == bulletin_id))
    if first is None or last is None:
        raise RuntimeError(f"bulletin {bulletin_id} sent nothing: see the worker log")
    return first, last, fanned


def fanout_task_seconds(running: Stack, log_name: str = "worker") -> float | None:
    """How long the fan-out task ran, as the worker logged it (summed, should a large
    bulletin fan out in several tasks).

    Read a line at a time: at a million members the log holds every batch's delivery
    ids, tens of megabytes the bench has no need to hold.
    """
    runs: list[float] = []
    with open(running.workdir / f"{log_name}.log", errors="replace") as log:
        for line in log:
            match = _FANOUT_DONE.search(line)
            if match:
                runs.append(float(match.group(1)))
    return sum(runs) if runs else None


_FANOUT_DONE = re.compile(r"Task commsvc\.fanout_bulletin\[[^\]]+\] succeeded in ([\d.]+)s")


@contextlib.contextmanager
def database(server_url: str = PG_SERVER) -> Iterator[str]:
    """A throw-away database on that server, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(server_url)
    name = f"commsvc_bench_{secrets.token_hex(4)}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_api_key(env: dict[str, str], role: str, region: str) -> str:
    """A new API key from `commsvc create-api-key`, as an administrator makes one."""
    output = run_cli(env, "create-api-key", "bench", "--role", role, "--region", region)
    return output.strip().splitlines()[-1]


def run_cli(env: dict[str, str], *args: str) -> str:
    """Run a `commsvc` command; returns what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "commsvc", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"commsvc {' '.join(args)} failed: {result.stderr}")
    return result.stdout
