"""Figures for the member import and audience resolution at scale (not a test).

    python -m bench.import_members --rows 100000

Writes a CSV with 1% bad rows, imports it twice (the second must change nothing),
then resolves the whole audience with `stream_audience` and `audience_preview`.
Prints time and peak memory for each step and writes them as JSON beside the CSV.
Uses COMMSVC_DATABASE_URL if set, otherwise a fresh SQLite file in a temp folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from commsvc.services.members.records import FIELDS

EMPLOYERS = ["Salford Royal NHS Foundation Trust", "Salford City Council", "Bolton Council"]
BAD = [
    ("email", "not-an-email"),
    ("mobile", "0123"),
    ("region", ""),
    ("service_group", "fire_service"),
    ("channels", "fax"),
]


def write_csv(path: Path, rows: int) -> int:
    """Write `rows` data lines; every hundredth is bad in one of five ways. Returns bad."""
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        for n in range(rows):
            row = {
                "membership_number": f"B{n:07d}",
                "first_name": f"Name{n}",
                "last_name": "Member",
                "email": f"bench{n}@example.org",
                "mobile": f"07800 {n % 1_000_000:06d}",
                "region": ["North West", "Yorkshire"][n % 2],
                "branch": f"Branch {n % 40}",
                "employer": EMPLOYERS[n % 3],
                "service_group": ["health", "local_government"][n % 2],
                "workplace": f"Workplace {n % 200}",
                "job_title": ["Staff Nurse", "Social Worker", "Porter"][n % 3],
                "partnerships": "Bench Joint Working Group" if n % 10 == 0 else "",
                "topics": ["", "bargaining", "bargaining;campaigns"][n % 3],
                "channels": ["", "email", "email;sms"][n % 3],
            }
            if n % 100 == 99:
                name, value = BAD[(n // 100) % len(BAD)]
                row[name] = value
                bad += 1
            writer.writerow([row[f] for f in FIELDS])
    return bad


def measured(step: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run a step twice: timed alone, then under tracemalloc (which slows Python down
    several times) for its peak Python allocations in MiB."""
    result, seconds = timed(step)
    tracemalloc.start()
    step()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, round(peak / 2**20, 1)


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = step()
    return result, round(time.perf_counter() - started, 2)


def rss() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None, help="folder for the CSV and JSON")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="commsvc-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("COMMSVC_INSTANCE_PATH", str(folder / "instance"))
    os.environ.setdefault("COMMSVC_DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
    os.environ.setdefault("COMMSVC_REDIS_URL", "redis://127.0.0.1:1/0")  # never contacted
    subprocess.run([sys.executable, "-m", "commsvc", "init-db"], check=True, timeout=300)

    csv_path = folder / "members.csv"
    bad = write_csv(csv_path, args.rows)

    from sqlalchemy import select, update

    from commsvc import create_app
    from commsvc.models import Member, Partnership, Topic
    from commsvc.services.bulletins import audience
    from commsvc.services.bulletins.audience_preview import audience_preview
    from commsvc.services.members import organisation
    from commsvc.services.members.importer import import_members

    app = create_app(start_embedded_redis=False)
    figures: dict[str, Any] = {
        "rows": args.rows,
        "bad_rows": bad,
        "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0],
    }
    with app.app_context():
        from commsvc.extensions import db

        def run_import() -> Any:
            with csv_path.open("rb") as stream:
                return import_members(stream)

        # Imports are timed without tracemalloc (it slows Python several times over);
        # their memory is the process's peak resident size after each one.
        first, seconds = timed(run_import)
        figures["first_import"] = {**_summary(first), "seconds": seconds, "peak_rss_mib": rss()}
        second, seconds = timed(run_import)
        figures["second_import"] = {**_summary(second), "seconds": seconds, "peak_rss_mib": rss()}
        figures["second_import_changed_nothing"] = (second.created, second.updated) == (0, 0)
        lines = sorted(e.line for e in first.errors)
        figures["every_bad_row_reported"] = lines == [n + 2 for n in range(99, args.rows, 100)]
        figures["members_stored"] = db.session.query(Member).count()

        partnership = db.session.scalar(
            select(Partnership).where(Partnership.name == "Bench Joint Working Group")
        )
        assert partnership is not None
        partnership.employers = [organisation.employer_named(e) for e in EMPLOYERS]
        db.session.execute(update(Member).where(Member.id % 50 == 0).values(opted_out=True))
        db.session.commit()
        topic = db.session.scalar(select(Topic).where(Topic.name == "bargaining"))
        assert topic is not None

        def stream() -> int:
            return sum(len(c) for c in audience.stream_audience(partnership.id, {}, topic.id))

        streamed, seconds, peak = measured(stream)
        figures["stream_audience"] = {"members": streamed, "seconds": seconds, "peak_mib": peak}
        preview, seconds, peak = measured(
            lambda: audience_preview(partnership.id, {}, topic.id, ["email", "sms"]).as_json()
        )
        figures["audience_preview"] = {**preview, "seconds": seconds, "peak_mib": peak}
    figures["process_peak_rss_mib"] = rss()
    (folder / "import_members.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    print(f"CSV and JSON in {folder}")


def _summary(report: Any) -> dict[str, int]:
    return {
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "errors": len(report.errors),
    }


if __name__ == "__main__":
    main()
