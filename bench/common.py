"""Shared set-up for the benchmarks: a throw-away PostgreSQL database, a private Redis,
real worker processes, seeding and waiting (tables and profiles: bench/report.py).

Everything started here is stopped by the same context manager that started it.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from commsvc import embedded_redis, processes

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CORES = os.cpu_count() or 1
SEED_CHUNK = 5000
SEND_TIMEOUT_SECONDS = 1800
START_TIMEOUT_SECONDS = 180
BATCH_SIZE = 500  # the product's default COMMSVC_BATCH_SIZE
UNLIMITED_RATE = "1000000"  # messages/s: a provider limit the bench never reaches
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
            for worker in running.workers:
                stop(worker)
            stop(running.redis)


def start_worker(running: Stack, concurrency: int = CORES, log_name: str = "worker") -> Any:
    """A real `commsvc worker` process; its log (INFO) goes to a file in the workdir."""
    return _start(running, ["worker", "--concurrency", str(concurrency)], log_name, "ready.")


def start_beat(running: Stack) -> Any:
    """`commsvc beat`, for the sweeps that repair what a crash left behind."""
    return _start(running, ["beat"], "beat", "beat: Starting")


def _start(running: Stack, args: list[str], log_name: str, ready: str) -> Any:
    log = open(running.workdir / f"{log_name}.log", "ab")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "commsvc", *args, "--loglevel", "info"],
        env={**os.environ, **running.env},
        stdout=log,
        stderr=subprocess.STDOUT,
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


def peak_rss_mb(process: subprocess.Popen[bytes]) -> dict[int, float]:
    """Peak resident memory (VmHWM) of a worker and each of its child processes."""
    peaks: dict[int, float] = {}
    with contextlib.suppress(psutil.NoSuchProcess):
        parent = psutil.Process(process.pid)
        for proc in [parent, *parent.children(recursive=True)]:
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{proc.pid}/status").read_text()
                match = re.search(r"VmHWM:\s+(\d+) kB", status)
                if match:
                    peaks[proc.pid] = int(match.group(1)) / 1024
    return peaks


class RssWatch:
    """Keeps the highest VmHWM and the CPU time seen per worker process.

    CPU seconds per message is the figure that survives a busy machine: wall-clock
    rates move with whatever else the cores are doing, CPU cost per message does not.
    """

    def __init__(self, processes: list[subprocess.Popen[bytes]]) -> None:
        self.processes = processes
        self.peaks: dict[int, float] = {}
        self.cpu: dict[int, float] = {}
        self._baseline: dict[int, float] = {}

    def start(self) -> None:
        """Remember the CPU spent so far (start-up), to leave it out."""
        self.sample()
        self._baseline = dict(self.cpu)

    def sample(self) -> None:
        for process in self.processes:
            for pid, mb in peak_rss_mb(process).items():
                self.peaks[pid] = max(mb, self.peaks.get(pid, 0.0))
            with contextlib.suppress(psutil.NoSuchProcess):
                parent = psutil.Process(process.pid)
                for proc in [parent, *parent.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        times = proc.cpu_times()
                        self.cpu[proc.pid] = times.user + times.system

    def cpu_seconds(self) -> float:
        return sum(cpu - self._baseline.get(pid, 0.0) for pid, cpu in self.cpu.items())


def seed(members: int, *, with_mobile: bool = False) -> int:
    """N members of one Section 31 partnership, inserted in bulk; returns its id."""
    from sqlalchemy import insert

    from commsvc.extensions import db
    from commsvc.models import Member
    from commsvc.models.base import utcnow
    from commsvc.models.member import new_public_id
    from commsvc.services.accounts import actors
    from commsvc.services.members import organisation

    region = organisation.region_named("North West")
    partnership = organisation.create_partnership(
        actors.SYSTEM,
        {
            "name": "Salford Integrated Care Section 31 Partnership",
            "kind": "section_31_partnership",
            "region": "North West",
            "employers": ["Salford Royal NHS Foundation Trust", "Salford City Council"],
        },
    )
    organisation.topic_named("bargaining", "campaign")
    db.session.commit()
    employer_ids = [e.id for e in partnership.employers]
    now = utcnow()
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
    return int(partnership.id)


def create_bulletin(partnership_id: int, channels: list[str]) -> int:
    from commsvc.services.accounts import actors
    from commsvc.services.bulletins import composing

    bulletin = composing.create_bulletin(
        actors.SYSTEM,
        {
            "partnership": partnership_id,
            "title": "Pay offer consultation",
            "topic": "bargaining",
            "channels": channels,
            "subject": SUBJECT,
            "email_body": EMAIL_BODY,
            "sms_body": SMS_BODY,
            "audience": {},
        },
    )
    return int(bulletin.id)


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


def wait_until_done(
    bulletin_id: int, expected: int, on_tick: Any = None, timeout: float = SEND_TIMEOUT_SECONDS
) -> dict[str, int]:
    """Poll the database until no delivery is waiting; returns the counts by status."""
    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        counts = delivery_counts(bulletin_id)
        if sum(counts.values()) >= expected and not waiting(counts):
            return counts
        if on_tick:
            on_tick(counts)
        time.sleep(0.5)
    raise TimeoutError(f"bulletin {bulletin_id} not done in {timeout} s: {counts}")


def waiting(counts: dict[str, int]) -> int:
    return sum(counts.get(s, 0) for s in ("pending", "queued", "sending", "temporary_failure"))


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
    """How long the fan-out task ran, as the worker logged it."""
    text = (running.workdir / f"{log_name}.log").read_text(errors="replace")
    match = re.search(r"Task commsvc\.fanout_bulletin\[[^\]]+\] succeeded in ([\d.]+)s", text)
    return float(match.group(1)) if match else None


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


def run_cli(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "commsvc", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"commsvc {' '.join(args)} failed: {result.stderr}")
