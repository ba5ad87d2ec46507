"""`python -m bench.drill --hosts 2 [--members N]`: the engine across worker hosts.

Each worker host is a network namespace of the drill's own (bench/netns.py) running a
real `commsvc worker`; PostgreSQL, Redis, beat and the SMTP sink stay on the machine,
on loopback, and each host reaches them over its own link (bench/forward.py). Faults:

- partition: one host's link is cut mid-send for longer than a claim lives, then
  restored (the figures are taken once it is back and has had time to act); the other
  host must finish the bulletin, and the cut-off host must not send what was taken back
  from it (its claim is fenced);
- host-kill: every process of one host SIGKILLed;
- redis: Redis restarted empty;
- postgres: PostgreSQL restarted (a private server, so the machine's is left alone).

Printed per scenario: lost (never received, not shown as failed), duplicated (as the
sink saw them) against what DESIGN.md allows (one message in flight per worker process
that was cut off or killed), and the seconds from the fault to the bulletin `sent`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import common, netns, private_pg
from bench.forward import Forwarder
from commsvc import embedded_redis, processes
from commsvc.sinks.email import EmailSink

WORKER_CONCURRENCY = 1  # per host: two cores are shared by every host and the services
CLAIM_SECONDS = 10  # the claim lifetime the drill sets (COMMSVC_STUCK_AFTER_SECONDS)
CUT_SECONDS = 3 * CLAIM_SECONDS + 10  # longer than a claim lives and a sweep comes round
SETTLE_SECONDS = 15  # after a link comes back: time for the old worker to try its luck
FAULT_AT = 1 / 3
SCENARIO_TIMEOUT_SECONDS = 600
_DELIVERY_HEADER = re.compile(rb"^X-Commsvc-Delivery: (\d+)\r?$", re.MULTILINE)
FAILED = {"temporary_failure", "permanent_failure", "bounced"}


@dataclass
class Cluster:
    """The machine's services and the worker hosts of one scenario."""

    hosts: list[netns.Host]
    env: dict[str, str]  # for the machine side (beat, the drill itself)
    workdir: Path
    redis: subprocess.Popen[bytes]
    redis_port: int
    postgres: private_pg.PrivatePostgres | None
    workers: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    others: list[subprocess.Popen[bytes]] = field(default_factory=list)
    pending: list[threading.Thread] = field(default_factory=list)

    def later(self, seconds: float, action: Callable[[], None]) -> None:
        """Do `action` after `seconds`, without holding up the drill's watch."""
        timer = threading.Timer(seconds, action)
        timer.start()
        self.pending.append(timer)

    def settle(self) -> None:
        """Wait for the delayed actions (a restored link), then give the hosts time to act."""
        for thread in self.pending:
            thread.join(timeout=CUT_SECONDS + 30)
        if self.pending:
            time.sleep(SETTLE_SECONDS)

    def host_env(self, host: netns.Host) -> dict[str, str]:
        """The same settings, with every service reached over the host's own link."""
        return {
            name: value.replace("127.0.0.1", host.machine_address)
            if name.endswith("_URL") and name != "COMMSVC_PUBLIC_URL"
            else value
            for name, value in self.env.items()
        }

    def start_worker(self, host: netns.Host) -> None:
        log = open(self.workdir / f"worker-{host.index}.log", "ab")  # noqa: SIM115
        command = host.command(
            [
                sys.executable,
                "-m",
                "commsvc",
                "worker",
                "--concurrency",
                str(WORKER_CONCURRENCY),
                "--loglevel",
                "info",
                "--name",
                f"host{host.index}@drill",
            ]
        )
        self.workers[host.index] = subprocess.Popen(
            command,
            env={**os.environ, **self.host_env(host)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_for(lambda: "ready." in _read(self.workdir / f"worker-{host.index}.log"), 120)

    def restart_redis(self) -> None:
        processes.stop_process(self.redis, 10)
        self.redis, _url = embedded_redis.start_server(self.workdir, self.redis_port)


def main(hosts: int, members: int, only: list[str] | None) -> dict[str, dict[str, Any]]:
    reason = netns.can_make_namespaces() or private_pg.available()
    if reason:
        raise SystemExit(f"the hosts drill cannot run here: {reason}")
    results = {}
    for name in only or list(SCENARIOS):
        print(f"scenario {name} ({hosts} hosts, {members} members) ...", flush=True)
        results[name] = run(name, hosts, members)
        print(f"  {results[name]}", flush=True)
    return results


def run(
    name: str, host_count: int, members: int, database_server: str | None = None
) -> dict[str, Any]:
    """One scenario on a fresh cluster. With `database_server`, the drill uses a throw-away
    database there instead of a private server (no PostgreSQL restart then)."""
    from commsvc import create_app

    fault = SCENARIOS[name]
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command
    sink = EmailSink(embedded_redis.free_port()).start()
    try:
        with _cluster(host_count, sink, database_server) as cluster:
            app = create_app()
            with app.app_context():
                partnership_id = common.seed(members)
                bulletin_id = common.create_bulletin(partnership_id, ["email"])
                for host in cluster.hosts:
                    cluster.start_worker(host)
                cluster.others.append(_start_beat(cluster))
                common.send_now(bulletin_id)
                _wait_for(lambda: _sent(bulletin_id) >= members * FAULT_AT, 300)
                fault_at = time.monotonic()
                allowed = fault(cluster)
                finished = _wait_for(lambda: _bulletin_status(bulletin_id) == "sent", 600)
                recovered = time.monotonic() - fault_at
                cluster.settle()  # a cut-off host is back and has had its say
                statuses = _statuses(bulletin_id)
    finally:
        sink.stop()
    received = collections.Counter(
        int(match.group(1))
        for _sender, _recipients, data in sink.messages
        for match in [_DELIVERY_HEADER.search(data)]
        if match
    )
    missing = set(statuses) - set(received)
    failed = {i for i in missing if statuses[i] in FAILED}
    return {
        "finished": finished,
        "lost": len(missing - failed),
        "gave_up": len(failed),
        "duplicated": sum(n - 1 for n in received.values() if n > 1),
        "allowed_duplicates": allowed,
        "recovered_seconds": round(recovered, 1),
    }


def _partition(cluster: Cluster) -> int:
    """Cut host 1 off for longer than a claim lives, then join it again."""
    host = cluster.hosts[0]
    host.cut()
    cluster.later(CUT_SECONDS, host.restore)
    return WORKER_CONCURRENCY


def _kill_host(cluster: Cluster) -> int:
    """SIGKILL every process of host 1 (the worker and its pool), as a power cut would."""
    worker = cluster.workers[cluster.hosts[0].index]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    return WORKER_CONCURRENCY


def _restart_redis(cluster: Cluster) -> int:
    cluster.restart_redis()
    return 0


def _restart_postgres(cluster: Cluster) -> int:
    """Restart the database under every worker: an acceptance on its way to the database
    at that instant is lost with the connection, so each worker process may resend the
    one message it had in flight (the promise for a crash), no more."""
    if cluster.postgres is None:
        raise RuntimeError("the postgres scenario needs the drill's private server")
    cluster.postgres.restart()
    return WORKER_CONCURRENCY * len(cluster.hosts)


SCENARIOS: dict[str, Callable[[Cluster], int]] = {
    "partition": _partition,
    "host-kill": _kill_host,
    "redis": _restart_redis,
    "postgres": _restart_postgres,
}


@contextlib.contextmanager
def _cluster(host_count: int, sink: EmailSink, database_server: str | None) -> Iterator[Cluster]:
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="commsvc-hosts-")))
        hosts = stack.enter_context(netns.hosts(host_count))
        postgres = None
        if database_server is None:
            postgres = stack.enter_context(private_pg.private_postgres())
            database_server = postgres.url
        database_url = stack.enter_context(common.database(database_server))
        redis_port = embedded_redis.free_port()
        redis, redis_url = embedded_redis.start_server(workdir, redis_port)
        database_port = int(database_url.split("@", 1)[1].split("/")[0].rsplit(":", 1)[1])
        forwarder = Forwarder(
            [h.machine_address for h in hosts], [database_port, redis_port, sink.port]
        ).start()
        env = {
            "COMMSVC_INSTANCE_PATH": str(workdir / "instance"),
            "COMMSVC_DATABASE_URL": database_url,
            "COMMSVC_REDIS_URL": redis_url,
            "COMMSVC_SECRET_KEY": "drill-secret-key-" + "x" * 32,
            "COMMSVC_WEBHOOK_SECRET": "drill-webhook-secret",
            "COMMSVC_PUBLIC_URL": "http://127.0.0.1:5000",
            "COMMSVC_EMAIL_FROM": "bulletins@union.example",
            "COMMSVC_EMAIL_URL": sink.url,
            "COMMSVC_SMS_URL": "http://127.0.0.1:1/send",
            "COMMSVC_EMAIL_RATE": common.UNLIMITED_RATE,
            "COMMSVC_STUCK_AFTER_SECONDS": str(CLAIM_SECONDS),
            "COMMSVC_WORKER_DEAD_AFTER_SECONDS": str(CLAIM_SECONDS),
            "COMMSVC_BATCH_SIZE": "100",
        }
        stack.callback(_restore_environment, dict(os.environ))
        os.environ.update(env)  # create_app() in the drill reads the same settings
        cluster = Cluster(hosts, env, workdir, redis, redis_port, postgres)
        try:
            common.run_cli(env, "init-db")
            yield cluster
        finally:
            for process in [*cluster.workers.values(), *cluster.others]:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                processes.stop_process(process, 20)
            forwarder.stop()
            processes.stop_process(cluster.redis, 10)


def _restore_environment(saved: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(saved)


def _start_beat(cluster: Cluster) -> subprocess.Popen[bytes]:
    log = open(cluster.workdir / "beat.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "commsvc", "beat", "--loglevel", "info"],
        env={**os.environ, **cluster.env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _wait_for(lambda: "beat: Starting" in _read(cluster.workdir / "beat.log"), 120)
    return process


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:  # noqa: BLE001 (the database may be restarting: look again)
            pass
        time.sleep(0.5)
    return False


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _sent(bulletin_id: int) -> int:
    return common.delivery_counts(bulletin_id).get("sent", 0)


def _bulletin_status(bulletin_id: int) -> str | None:
    from sqlalchemy import select

    from commsvc.extensions import db
    from commsvc.models import Bulletin

    db.session.rollback()
    return db.session.scalar(select(Bulletin.status).where(Bulletin.id == bulletin_id))


def _statuses(bulletin_id: int) -> dict[int, str]:
    from sqlalchemy import select

    from commsvc.extensions import db
    from commsvc.models import Delivery

    db.session.rollback()
    query = select(Delivery.id, Delivery.status).where(Delivery.bulletin_id == bulletin_id)
    return {i: str(status) for i, status in db.session.execute(query)}
