"""`python -m bench.fanout --members 100000`: fan-out alone, with no worker taking the
batches, beside its floor (one bare INSERT … SELECT of the same rows).

`bench.send` times fan-out while the workers already send the first batches, so its
figure moves with how busy the cores are; this one times the fan-out task's own work
(rows written, counters kept, batches enqueued) and prints the CPU it took in this
process, its PostgreSQL backend and Redis, which does not move with the machine.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from bench import common, report
from bench.report import fmt

TARGET_SECONDS = 1.0  # the issue's: 100,000 deliveries in at most 1 s (3x the floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--channels", default="email", help="email, sms or email,sms")
    args = parser.parse_args()
    channels = args.channels.split(",")
    with common.stack() as running:
        from commsvc import create_app

        app = create_app()
        with app.app_context():
            partnership_id = common.seed(args.members, with_mobile="sms" in channels)
            bulletin_id = common.create_bulletin(partnership_id, channels)
            floor = _floor(bulletin_id)
            ours = _fan_out(bulletin_id, running.redis.pid)
    rows = [
        ("members", f"{args.members:,}", ""),
        ("channels", ",".join(channels), ""),
        ("deliveries written", f"{ours['rows']:,}", ""),
        ("batches enqueued", f"{ours['batches']:,}", ""),
        ("fan-out wall (s)", fmt(ours["seconds"], 3), f"<= {TARGET_SECONDS} at 100,000"),
        ("  CPU: this process (s)", fmt(ours["cpu_python"], 3), ""),
        ("  CPU: PostgreSQL backends (s)", fmt(ours["cpu_postgres"], 3), ""),
        ("  CPU: Redis (s)", fmt(ours["cpu_redis"], 3), ""),
        ("floor: one bare INSERT … SELECT (s)", fmt(floor, 3), ""),
        ("fan-out / floor", fmt(ours["seconds"] / floor, 2), "<= 3"),
    ]
    report.report(f"fanout-{args.members}", rows, {"args": vars(args), "ours": ours})


def _fan_out(bulletin_id: int, redis_pid: int) -> dict[str, Any]:
    """Run the fan-out task's function in this process; time it and count the CPU."""
    from sqlalchemy import func, select

    from commsvc.extensions import db
    from commsvc.models import Bulletin, Delivery
    from commsvc.services.delivery import fanout

    bulletin = db.session.get(Bulletin, bulletin_id)
    assert bulletin is not None
    bulletin.status = "sending"
    db.session.commit()
    before = (time.perf_counter(), time.process_time(), _backends_cpu(), _cpu(redis_pid))
    batches = fanout.fan_out(bulletin_id)
    after = (time.perf_counter(), time.process_time(), _backends_cpu(), _cpu(redis_pid))
    rows = db.session.scalar(select(func.count()).where(Delivery.bulletin_id == bulletin_id))
    return {
        "seconds": after[0] - before[0],
        "cpu_python": after[1] - before[1],
        # Every backend of this database: the fan-out writes with several connections.
        "cpu_postgres": sum(cpu - before[2].get(pid, 0.0) for pid, cpu in after[2].items()),
        "cpu_redis": after[3] - before[3],
        "batches": batches,
        "rows": int(rows or 0),
    }


def _floor(bulletin_id: int) -> float:
    """One INSERT … SELECT of a row per member, no rule, no counters, rolled back."""
    from sqlalchemy import text

    from commsvc.extensions import db

    db.session.execute(text("SET LOCAL jit = off"))
    started = time.perf_counter()
    db.session.execute(
        text(
            "INSERT INTO deliveries (bulletin_id, member_id, channel, status, attempts,"
            " created_at, updated_at) SELECT :bulletin, id, 'email', 'queued', 0, now(), now()"
            " FROM members"
        ),
        {"bulletin": bulletin_id},
    )
    seconds = time.perf_counter() - started
    db.session.rollback()
    return seconds


def _backends_cpu() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to this database."""
    from sqlalchemy import text

    from commsvc.extensions import db

    pids = db.session.scalars(
        text(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend'"
        )
    ).all()
    db.session.commit()
    return {pid: _cpu(pid) for pid in pids if Path(f"/proc/{pid}").exists()}


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
