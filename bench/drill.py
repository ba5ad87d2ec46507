"""`python -m bench.drill --members 5000`: the fault scenarios of the delivery engine,
each on a fresh stack with real workers and beat, printing lost and duplicated
messages as the receiving server saw them.

- kill: SIGKILL the worker (parent and children) a third of the way, start another;
- redis: restart Redis empty (queues and counters gone) a third of the way;
- flaky-sms: the SMS gateway answers 500 to every third request;
- kill-default: as kill, with the default settings (the stuck sweep's ten minutes out of
  play): prints how long the bulletin took to finish after the kill; the dead worker's
  claims come back through its stopped heartbeat, in about a minute;
- redis-before-fanout: Redis restarted empty after the send request, before any worker
  took the fan-out task; prints how long the bulletin took to finish after that;
- opt-outs: a tenth of the audience replies STOP while the SMS send is under way (at
  the default 30 SMS a second); prints how many of them still got a message after their
  STOP was recorded (must be 0), from the gateway's arrival times and the STOP times.

Lost = a delivery of the bulletin the server never received that the database shows
neither as failed nor as withheld by the member's choice (skipped, suppressed); gave
up = never received and shown as failed (retries spent), so an organiser sees it;
duplicated = a delivery received more than once. DESIGN.md allows a duplicate only
for a message in flight when a worker process died: at most one per killed process.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import re
import signal
import time
from collections.abc import Callable
from typing import Any

import psutil

from bench import common, hosts, report
from bench.sms_gateway import FastSmsGateway
from commsvc import embedded_redis
from commsvc.sinks.email import EmailSink

STUCK_AFTER_SECONDS = "15"
DRILL_TIMEOUT_SECONDS = 900
FAULT_AT = 1 / 3
FAILED = {"temporary_failure", "permanent_failure", "bounced"}
WITHHELD = {"skipped", "suppressed"}  # not sent by the member's choice: not lost
_DELIVERY_HEADER = re.compile(rb"^X-Commsvc-Delivery: (\d+)\r?$", re.MULTILINE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=common.CORES)
    parser.add_argument(
        "--hosts",
        type=int,
        default=0,
        help="run the worker-host scenarios (bench/hosts.py) on this many namespaced hosts",
    )
    parser.add_argument(
        "--only",
        choices=sorted(SCENARIOS) + sorted(hosts.SCENARIOS),
        action="append",
        help="run only these scenarios",
    )
    args = parser.parse_args()
    if args.hosts:
        _report_hosts(args)
        return
    results = {}
    for name in args.only or sorted(SCENARIOS):
        print(f"scenario {name} ...", flush=True)
        results[name] = run(name, args.members, args.concurrency)
        print(f"  {results[name]}", flush=True)
    rows = []
    for name, result in results.items():
        allowed = result["allowed_duplicates"]
        rows += [
            (f"{name}: lost", str(result["lost"]), "0"),
            (f"{name}: gave up, shown as failed", str(result["gave_up"]), ""),
            (f"{name}: duplicated", str(result["duplicated"]), f"<= {allowed}"),
            (f"{name}: finished in (s)", report.fmt(result["seconds"]), ""),
            (f"{name}: finished after the fault (s)", str(result["seconds_after_fault"]), ""),
        ]
        if "stopped" in result:
            rows += [
                (f"{name}: withheld (the member's STOP)", str(result["withheld"]), ""),
                (f"{name}: got the SMS after their STOP", str(result["got_it_after_stop"]), "0"),
            ]
    report.report(f"drill-{args.members}", rows, {"args": vars(args), "results": results})


def _report_hosts(args: argparse.Namespace) -> None:
    results = hosts.main(args.hosts, args.members, args.only)
    rows = []
    for name, result in results.items():
        rows += [
            (f"{name}: lost", str(result["lost"]), "0"),
            (f"{name}: gave up, shown as failed", str(result["gave_up"]), ""),
            (
                f"{name}: duplicated",
                str(result["duplicated"]),
                f"<= {result['allowed_duplicates']}",
            ),
            (f"{name}: fault to sent (s)", report.fmt(result["recovered_seconds"]), "about 60"),
        ]
    report.report(
        f"hosts-{args.hosts}-{args.members}", rows, {"args": vars(args), "results": results}
    )


def run(name: str, members: int, concurrency: int) -> dict[str, Any]:
    from commsvc import create_app

    channel, fault, fail_every = SCENARIOS[name]
    settings = {"COMMSVC_STUCK_AFTER_SECONDS": STUCK_AFTER_SECONDS, **SETTINGS.get(name, {})}
    email_sink = EmailSink(embedded_redis.free_port()).start()
    sms_sink = FastSmsGateway(embedded_redis.free_port(), fail_every).start()
    killed = 0
    extra: dict[str, Any] = {}
    try:
        with common.stack(
            email_url=email_sink.url,
            sms_url=sms_sink.url,
            COMMSVC_STUCK_AFTER_SECONDS=settings["COMMSVC_STUCK_AFTER_SECONDS"],
        ) as running:
            app = create_app()
            logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command
            with app.app_context():
                partnership_id = common.seed(members, with_mobile=True)
                bulletin_id = common.create_bulletin(partnership_id, [channel])
                common.start_beat(running)
                started = time.monotonic()
                if name == "redis-before-fanout":  # no worker yet: the fan-out waits in Redis
                    common.send_now(bulletin_id)
                    faulted = time.monotonic()
                    running.restart_redis()
                    common.start_worker(running, concurrency)
                else:
                    worker = common.start_worker(running, concurrency)
                    common.send_now(bulletin_id)
                    _wait_for_sent(bulletin_id, int(members * FAULT_AT))
                    faulted = time.monotonic()
                    if name == "opt-outs":
                        extra["stops"] = _reply_stop(bulletin_id, members // 10)
                    killed = fault(running, worker, concurrency)
                finished = _wait_for_bulletin_sent(bulletin_id)
                seconds = time.monotonic() - started
                extra["seconds_after_fault"] = round(time.monotonic() - faulted, 1)
                counts = common.delivery_counts(bulletin_id)
                statuses = _statuses(bulletin_id)
                if name == "opt-outs":
                    extra.update(_after_stop(bulletin_id, extra.pop("stops"), sms_sink))
    finally:
        email_sink.stop()
        sms_sink.stop()
    if channel == "email":
        received = [
            int(m.group(1))
            for _s, _r, data in email_sink.messages
            for m in [_DELIVERY_HEADER.search(data)]
            if m
        ]
    else:
        received = [int(reference) for reference in sms_sink.references]
    times = collections.Counter(received)
    missing = set(statuses) - set(times)
    failed = {i for i in missing if statuses[i] in FAILED}
    withheld = {i for i in missing if statuses[i] in WITHHELD}
    return {
        "members": members,
        "finished": finished,
        "seconds": seconds,
        "counts": counts,
        "received": len(received),
        "lost": len(missing - failed - withheld),
        "withheld": len(withheld),
        "gave_up": len(failed),
        "duplicated": sum(n - 1 for n in times.values() if n > 1),
        "allowed_duplicates": killed,
        "unexpected": len(set(times) - set(statuses)),
        **extra,
    }


def _reply_stop(bulletin_id: int, how_many: int) -> dict[str, float]:
    """STOP from `how_many` members whose SMS has not gone yet, as the inbound webhook
    records it; returns {mobile: time.time() once the STOP was committed}."""
    from sqlalchemy import select

    from commsvc.extensions import db
    from commsvc.models import Delivery, Member
    from commsvc.services.members import preferences

    db.session.rollback()
    waiting = db.session.scalars(
        select(Member.mobile)
        .join(Delivery, Delivery.member_id == Member.id)
        .where(Delivery.bulletin_id == bulletin_id, Delivery.status.in_(["queued", "sending"]))
        .order_by(Delivery.id)
    ).all()
    chosen = [m for m in waiting if m][:: max(len(waiting) // max(how_many, 1), 1)][:how_many]
    stops = {}
    for mobile in chosen:
        preferences.apply_sms_keyword(mobile, "STOP")
        stops[mobile] = time.time()
    return stops


def _after_stop(bulletin_id: int, stops: dict[str, float], sms: FastSmsGateway) -> dict[str, Any]:
    """How many members who sent STOP still got the SMS after it was recorded."""
    from sqlalchemy import select

    from commsvc.extensions import db
    from commsvc.models import Delivery, Member

    rows = db.session.execute(
        select(Delivery.id, Member.mobile)
        .join(Member, Member.id == Delivery.member_id)
        .where(Delivery.bulletin_id == bulletin_id, Member.mobile.in_(list(stops)))
    ).all()
    late = []
    for delivery_id, mobile in rows:
        arrived = sms.received_at.get(str(delivery_id))
        if arrived is not None and mobile and arrived > stops[mobile]:
            late.append(arrived - stops[mobile])
    return {
        "stopped": len(stops),
        "got_it_after_stop": len(late),
        "got_it_over_1s_after_stop": sum(1 for seconds in late if seconds > 1.0),
    }


def _kill_worker(running: common.Stack, worker: Any, concurrency: int) -> int:
    """SIGKILL the worker and its children at once, then start a fresh one."""
    parent = psutil.Process(worker.pid)
    victims = [parent, *parent.children(recursive=True)]
    for victim in victims:
        os.kill(victim.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    common.start_worker(running, concurrency, log_name="worker-2")
    return len(victims) - 1  # the pool processes that may have had a message in flight


def _restart_redis(running: common.Stack, worker: Any, concurrency: int) -> int:
    running.restart_redis()
    return 0


def _nothing(running: common.Stack, worker: Any, concurrency: int) -> int:
    return 0


Fault = Callable[[common.Stack, Any, int], int]
SCENARIOS: dict[str, tuple[str, Fault, int]] = {
    "kill": ("email", _kill_worker, 0),
    "redis": ("email", _restart_redis, 0),
    "flaky-sms": ("sms", _nothing, 3),
    "kill-default": ("email", _kill_worker, 0),
    "redis-before-fanout": ("email", _nothing, 0),
    "opt-outs": ("sms", _nothing, 0),
}
DEFAULTS = {"COMMSVC_STUCK_AFTER_SECONDS": "600"}  # the defaults: only quick recovery helps
SETTINGS: dict[str, dict[str, str]] = {
    "kill-default": DEFAULTS,
    "redis-before-fanout": DEFAULTS,
    "opt-outs": DEFAULTS,
}


def _wait_for_sent(bulletin_id: int, at_least: int) -> None:
    deadline = time.monotonic() + DRILL_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if common.delivery_counts(bulletin_id).get("sent", 0) >= at_least:
            return
        time.sleep(0.05)
    raise TimeoutError(f"fewer than {at_least} sent in {DRILL_TIMEOUT_SECONDS} s")


def _wait_for_bulletin_sent(bulletin_id: int) -> bool:
    from sqlalchemy import select

    from commsvc.extensions import db
    from commsvc.models import Bulletin

    deadline = time.monotonic() + DRILL_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        db.session.rollback()
        if db.session.scalar(select(Bulletin.status).where(Bulletin.id == bulletin_id)) == "sent":
            return True
        time.sleep(1)
    return False


def _statuses(bulletin_id: int) -> dict[int, str]:
    from sqlalchemy import select

    from commsvc.extensions import db
    from commsvc.models import Delivery

    query = select(Delivery.id, Delivery.status).where(Delivery.bulletin_id == bulletin_id)
    return {i: str(status) for i, status in db.session.execute(query)}


if __name__ == "__main__":
    main()
