"""The half of `bench.send` and `bench.sms` that is the same: the whole system (web,
worker, beat) sending one bulletin on one channel, asked and watched over the REST API,
and the table that sets it beside the naive loop and the floor."""

from __future__ import annotations

import argparse
import multiprocessing
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bench import common, report
from bench.organiser import Organiser, Watched
from bench.report import Row, fmt
from bench.watch import RssWatch
from commsvc import embedded_redis

# No provider rate limit: the point is what the machine can do (the sinks take all).
_RATE_VARIABLE = {"email": "COMMSVC_EMAIL_RATE", "sms": "COMMSVC_SMS_RATE"}
FLOOR_SAMPLE_CAP = 100_000
WORKER_RSS_TARGET = "< 150"


def add_sample_arguments(parser: argparse.ArgumentParser, naive_default: int) -> None:
    """--naive-sample and --floor-sample: the references' rates are per message, so a
    sample will do, and a million pre-built messages would not fit in memory."""
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=naive_default,
        help="messages the naive loop sends (its rate is per message, so a sample will do)",
    )
    parser.add_argument(
        "--floor-sample",
        type=int,
        default=None,
        help=f"messages the floor sends (default: members, at most {FLOOR_SAMPLE_CAP:,})",
    )


def samples(args: argparse.Namespace) -> tuple[int, int]:
    """(naive, floor) sample sizes for this run."""
    floor = args.floor_sample or min(args.members, FLOOR_SAMPLE_CAP)
    return min(args.naive_sample, args.members), min(floor, args.members)


def run_ours(
    channel: str,
    members: int,
    concurrency: int,
    url: str,
    profile: bool,
    batch_size: int,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The whole system as in production (`commsvc web`, `worker` and `beat`, default
    settings but the provider rate), sent to through the REST API and timed as its
    user sees it: from the send request to the first status poll that reads `sent`.
    The worker-only figures come from the database and the worker log afterwards."""
    from commsvc import create_app
    from commsvc.extensions import db

    port = embedded_redis.free_port()
    base_url = f"http://127.0.0.1:{port}"
    urls = {"email_url": url} if channel == "email" else {"sms_url": url}
    extra = {
        _RATE_VARIABLE[channel]: common.UNLIMITED_RATE,
        "COMMSVC_PUBLIC_URL": base_url,
        **(extra_env or {}),
    }
    with common.stack(batch_size=batch_size, **urls, **extra) as running:
        app = create_app()
        with app.app_context():
            print(f"seeding {members:,} members ...", flush=True)
            partnership_id = common.seed(members, with_mobile=channel == "sms")
            db.session.remove()  # no transaction of ours stays open during the send
            key = common.create_api_key(running.env, "organiser", common.REGION)
            worker = common.start_worker(running, concurrency)
            beat = common.start_beat(running)
            web = common.start_web(running, port)
            organiser = Organiser(base_url, key)
            bulletin_id = organiser.create_bulletin(
                common.bulletin_fields(partnership_id, [channel])
            )
            watch = RssWatch({"web": web, "worker": worker, "beat": beat})
            watch.start()
            progress = common.Progress("sent", members)

            def tick(status: dict[str, Any]) -> None:
                watch.sample()
                counts = status.get("counts") or {}
                progress.show(counts.get("sent", 0) + counts.get("delivered", 0))

            report.RESULTS_DIR.mkdir(exist_ok=True)
            name = "send" if channel == "email" else "sms"
            profile_path = report.RESULTS_DIR / f"{name}-{members}-profile.txt" if profile else None
            print(f"sending to {members:,} through {base_url} ...", flush=True)
            with report.profiled(worker, profile_path):
                watched = organiser.send_and_watch(
                    bulletin_id, common.send_timeout(members), on_tick=tick
                )
            watch.sample()
            counts = common.delivery_counts(bulletin_id)
            first, last, fanned = common.sent_times(bulletin_id)
            fanout_seconds = common.fanout_task_seconds(running)
            if profile_path and profile_path.exists():
                print(f"\nprofile of the workers ({profile_path}); % self, % inclusive:")
                for frame, own, share in report.summarise_profile(profile_path):
                    print(f"{own:5.1f}% {share:5.1f}%  {frame}")
    return _figures(members, counts, watched, (first, last, fanned), fanout_seconds, watch)


def _figures(
    members: int,
    counts: dict[str, int],
    watched: Watched,
    times: tuple[datetime, datetime, datetime | None],
    fanout_seconds: float | None,
    watch: RssWatch,
) -> dict[str, Any]:
    """The user's view (seconds to `sent`, poll latencies) beside the worker's (first
    and last acceptances, fan-out, from the database and the log)."""
    first, last, fanned = times
    sent = counts.get("sent", 0)
    requested = watched.requested_at
    worker_span = (last - requested).total_seconds()
    return {
        "members": members,
        "counts": counts,
        "sent": sent,
        "seconds": watched.seconds_to_sent,
        "rate": sent / watched.seconds_to_sent,
        "status_latency": watched.latency_summary(),
        "worker_seconds": worker_span,
        "status_lag_s": watched.seconds_to_sent - worker_span,
        "worker_rate": sent / worker_span if worker_span > 0 else None,
        "steady_rate": sent / (last - first).total_seconds() if last != first else None,
        "first_message_s": (first - requested).total_seconds(),
        "rows_created_s": (fanned - requested).total_seconds() if fanned else None,
        "fanout_task_s": fanout_seconds,
        "peak_rss_mb": watch.peaks_by_role(),
        "cpu_ms_per_message": {
            role: 1000 * watch.cpu_seconds(role) / sent if sent else None
            for role in ("worker", "web", "beat")
        },
    }


def rows(
    args: argparse.Namespace,
    ours: dict[str, Any],
    naive: dict[str, Any],
    floor: dict[str, Any],
    *,
    floor_unit: str,
    ratio_note: str = "",
) -> list[Row]:
    """The side-by-side table; targets are the issue's, for email at 100,000. The
    ratios use the rate as a user sees it; the worker-only rates follow as context."""
    latency = ours["status_latency"]
    cpu = ours["cpu_ms_per_message"]
    polls = f"{latency['polls']:,} polls"
    return [
        ("members", f"{args.members:,}", ""),
        ("worker processes (concurrency)", str(args.concurrency), "machine's cores"),
        ("deliveries per batch task", f"{args.batch_size:,}", ""),
        ("delivered (status sent)", f"{ours['sent']:,}", f"{args.members:,}, 0 lost"),
        ("ours: send request to status sent (s)", fmt(ours["seconds"], 2), ""),
        ("ours: messages/s (as a user sees it)", fmt(ours["rate"], 0), ""),
        ("ours: status sent after the last acceptance (s)", fmt(ours["status_lag_s"], 2), ""),
        (f"naive: messages/s ({naive['sent']:,} sample)", fmt(naive["rate"], 0), ""),
        (
            f"floor: messages/s ({floor['sent']:,} sample, {floor['connections']} {floor_unit})",
            fmt(floor["rate"], 0),
            "",
        ),
        ("ours / naive", fmt(ours["rate"] / naive["rate"], 2), ">= 10" + ratio_note),
        ("ours / floor", fmt(ours["rate"] / floor["rate"], 2), ">= 0.5" + ratio_note),
        ("time to first message (s)", fmt(ours["first_message_s"], 2), "< 2"),
        (f"status endpoint latency p50 (ms, {polls})", fmt(latency["p50_ms"]), ""),
        ("status endpoint latency p95 (ms)", fmt(latency["p95_ms"]), ""),
        ("status endpoint latency max (ms)", fmt(latency["max_ms"]), ""),
        ("worker only: msg/s (send request to last, db)", fmt(ours["worker_rate"], 0), ""),
        ("worker only: msg/s (first to last, db)", fmt(ours["steady_rate"], 0), ""),
        ("fan-out: rows created (s)", fmt(ours["rows_created_s"], 2), "< 10 at 100,000"),
        ("fan-out task incl. enqueue (s)", fmt(ours["fanout_task_s"], 2), "< 10 at 100,000"),
        ("ours: worker CPU ms per message", fmt(cpu["worker"], 3), ""),
        ("ours: web CPU ms per message (polls)", fmt(cpu["web"], 3), ""),
        ("naive: CPU ms per message", fmt(naive.get("cpu_ms_per_message"), 3), ""),
        ("floor: CPU ms per message", fmt(floor.get("cpu_ms_per_message"), 3), ""),
    ] + [
        (
            f"{role} peak RSS (MB), pid {pid}",
            fmt(mb),
            WORKER_RSS_TARGET if role == "worker" else "",
        )
        for role, peaks in ours["peak_rss_mb"].items()
        for pid, mb in peaks.items()
    ]


def in_processes(target: Callable[..., None], count: int, processes: int, *args: Any) -> list[Any]:
    """Share `count` messages among forked processes that start together.

    Each runs target(index, share, *args, barrier, results): it gets ready, waits at
    the barrier, sends its share and puts its timing on `results`; the timings are
    returned, one per process.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes)
    results = context.Queue()
    shares = [count // processes + (i < count % processes) for i in range(processes)]
    started = [
        context.Process(target=target, args=(i, share, *args, barrier, results))
        for i, share in enumerate(shares)
    ]
    for process in started:
        process.start()
    timings = [results.get(timeout=common.send_timeout(count)) for _ in started]
    for process in started:
        process.join(timeout=30)
    return timings
