"""Latency of GET /api/v1/bulletins/{id} at 1,000 and 100,000 deliveries (not a test).

    python -m bench.status [--sizes 1000 100000] [--requests 300]

Seeds members and delivery rows directly in bulk (a mix of statuses, as mid-send),
then asks for the bulletin's status through the real app many times. The counts
come from Redis (commsvc.tracking), so the answer should take the same time at
any size; the first request after Redis lost the counts rebuilds them with one
GROUP BY, shown separately as `rebuild_ms`. Prints the figures and the ratio of
the medians, and writes them as JSON beside this file (bench/status.json).
Uses COMMSVC_DATABASE_URL and COMMSVC_REDIS_URL if set; otherwise a fresh SQLite
file and a private redis-server.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STATUS_MIX = [  # (status, share of deliveries): a bulletin part-way through sending
    ("sent", 0.55),
    ("delivered", 0.25),
    ("queued", 0.12),
    ("sending", 0.02),
    ("temporary_failure", 0.03),
    ("permanent_failure", 0.02),
    ("skipped", 0.01),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".json"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="commsvc-bench-status-"))
    os.environ.setdefault("COMMSVC_INSTANCE_PATH", str(folder / "instance"))
    os.environ.setdefault("COMMSVC_DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
    redis_process = None
    if not os.environ.get("COMMSVC_REDIS_URL"):
        from commsvc import embedded_redis

        redis_process, url = embedded_redis.start_server(folder)
        os.environ["COMMSVC_REDIS_URL"] = url
    try:
        subprocess.run([sys.executable, "-m", "commsvc", "init-db"], check=True, timeout=300)
        figures = measure(args.sizes, args.requests)
    finally:
        if redis_process is not None:
            from commsvc import processes

            processes.stop_process(redis_process, timeout=10)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"written to {args.out}")


def measure(sizes: list[int], requests: int) -> dict[str, Any]:
    from commsvc import create_app, redis_store
    from commsvc.extensions import db
    from commsvc.services.accounts import actors, auth
    from commsvc.services.members import organisation

    app = create_app()
    figures: dict[str, Any] = {
        "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0],
        "requests_per_size": requests,
        "sizes": {},
    }
    urls: dict[str, str] = {}
    with app.app_context():
        region = organisation.region_named("Bench Region")
        partnership = organisation.create_partnership(
            actors.SYSTEM,
            {
                "name": "Bench Care Trust",
                "kind": "care_trust",
                "region": region.name,
                "employers": ["Bench NHS Trust", "Bench Council"],
            },
        )
        topic = organisation.topic_named("bargaining")
        db.session.commit()
        _key, plain = auth.create_api_key("bench-status", "admin", [])
        for run, size in enumerate(sizes):
            label = f"{size}" if sizes.count(size) == 1 else f"{size} (#{run + 1})"
            bulletin_id = seed(size, f"S{run}-", partnership.id, topic.id, region.id)
            urls[label] = f"/api/v1/bulletins/{bulletin_id}"
            redis_store.client().delete(f"commsvc:bulletin:{bulletin_id}:counts")
    # Requests run outside the seeding's app context, each in its own, as in production.
    headers = {"Authorization": f"Bearer {plain}"}
    client = app.test_client()
    for label, url in urls.items():
        size = int(label.split()[0])
        started = time.perf_counter()
        first = client.get(url, headers=headers)
        rebuild_ms = (time.perf_counter() - started) * 1000
        assert first.status_code == 200, first.get_data(as_text=True)
        assert sum(first.get_json()["counts"].values()) == size
        figures["sizes"][label] = {"deliveries": size, "rebuild_ms": round(rebuild_ms, 3)}
    # Requests alternate between the sizes, so a busy machine slows them all alike.
    timings: dict[str, list[float]] = {label: [] for label in urls}
    for _ in range(requests):
        for label, url in urls.items():
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            timings[label].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    for label, values in timings.items():
        values.sort()
        figures["sizes"][label]["median_ms"] = round(statistics.median(values), 3)
        figures["sizes"][label]["p95_ms"] = round(values[int(len(values) * 0.95) - 1], 3)
    by_size = sorted(figures["sizes"].values(), key=lambda f: f["deliveries"])
    figures["median_ratio_largest_to_smallest"] = round(
        by_size[-1]["median_ms"] / by_size[0]["median_ms"], 3
    )
    return figures


def seed(size: int, prefix: str, partnership_id: int, topic_id: int, region_id: int) -> int:
    """One `sending` bulletin with `size` deliveries (half as many members, two channels)."""
    from sqlalchemy import insert, select

    from commsvc.extensions import db
    from commsvc.models import Bulletin, Delivery, Member
    from commsvc.models.base import utcnow
    from commsvc.models.member import new_public_id

    bulletin = Bulletin(
        partnership_id=partnership_id,
        topic_id=topic_id,
        title=f"Bench {size}",
        channels=["email", "sms"],
        subject="s",
        email_body="e",
        sms_body="x",
        status="sending",
        audience_size=size // 2,
        created_by="bench",
    )
    db.session.add(bulletin)
    db.session.commit()
    members = size // 2
    for start in range(0, members, 10_000):
        db.session.execute(
            insert(Member),
            [
                {
                    "membership_number": f"{prefix}{n:07d}",
                    "public_id": new_public_id(),
                    "email": f"{prefix.lower()}{n}@example.org",
                    "mobile": f"+447700{n % 1_000_000:06d}",
                    "region_id": region_id,
                    "service_group": "health",
                }
                for n in range(start, min(start + 10_000, members))
            ],
        )
    db.session.commit()
    ids = db.session.scalars(
        select(Member.id).where(Member.membership_number.startswith(prefix)).order_by(Member.id)
    ).all()
    statuses = [s for s, share in STATUS_MIX for _ in range(round(share * 100))]
    now = utcnow()
    rows = [
        {
            "bulletin_id": bulletin.id,
            "member_id": member_id,
            "channel": channel,
            "status": statuses[(n * 2 + c) % len(statuses)],
            "attempts": 1,
            "created_at": now,
            "updated_at": now,
        }
        for n, member_id in enumerate(ids)
        for c, channel in enumerate(("email", "sms"))
    ]
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(Delivery), rows[start : start + 10_000])
    db.session.commit()
    return int(bulletin.id)


if __name__ == "__main__":
    main()
