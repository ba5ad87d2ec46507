"""The half of `bench.send` and `bench.sms` that is the same: our real workers sending
one bulletin on one channel, and the table that sets them beside the naive loop and
the floor."""

from __future__ import annotations

import argparse
import multiprocessing
from collections.abc import Callable
from typing import Any

from bench import common, report
from bench.report import Row, fmt

# No provider rate limit: the point is what the machine can do (the sinks take all).
_RATE_VARIABLE = {"email": "COMMSVC_EMAIL_RATE", "sms": "COMMSVC_SMS_RATE"}


def run_ours(
    channel: str,
    members: int,
    concurrency: int,
    url: str,
    profile: bool,
    batch_size: int,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Seed, start `commsvc worker`, send, and time it from the send call to the last
    acceptance recorded in the database."""
    from commsvc import create_app

    urls = {"email_url": url} if channel == "email" else {"sms_url": url}
    unlimited = {_RATE_VARIABLE[channel]: common.UNLIMITED_RATE}
    extra = {**unlimited, **(extra_env or {})}
    with common.stack(batch_size=batch_size, **urls, **extra) as running:
        app = create_app()
        with app.app_context():
            partnership_id = common.seed(members, with_mobile=channel == "sms")
            bulletin_id = common.create_bulletin(partnership_id, [channel])
            worker = common.start_worker(running, concurrency)
            watch = common.RssWatch([worker])
            watch.start()
            report.RESULTS_DIR.mkdir(exist_ok=True)
            name = "send" if channel == "email" else "sms"
            profile_path = report.RESULTS_DIR / f"{name}-{members}-profile.txt" if profile else None
            with report.profiled(worker, profile_path):
                sent_at = common.send_now(bulletin_id)
                counts = common.wait_until_done(
                    bulletin_id, members, on_tick=lambda _counts: watch.sample()
                )
            watch.sample()
            first, last, fanned = common.sent_times(bulletin_id)
            common.stop(worker)
            fanout_seconds = common.fanout_task_seconds(running)
            if profile_path and profile_path.exists():
                print(f"\nprofile of the workers ({profile_path}); % self, % inclusive:")
                for frame, own, share in report.summarise_profile(profile_path):
                    print(f"{own:5.1f}% {share:5.1f}%  {frame}")
    sent = counts.get("sent", 0)
    span = (last - sent_at).total_seconds()
    return {
        "members": members,
        "counts": counts,
        "sent": sent,
        "seconds": span,
        "rate": sent / span if span else 0.0,
        "steady_rate": sent / (last - first).total_seconds() if last != first else None,
        "first_message_s": (first - sent_at).total_seconds(),
        "rows_created_s": (fanned - sent_at).total_seconds() if fanned else None,
        "fanout_task_s": fanout_seconds,
        "worker_peak_rss_mb": {str(pid): round(mb, 1) for pid, mb in watch.peaks.items()},
        "cpu_ms_per_message": 1000 * watch.cpu_seconds() / sent if sent else None,
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
    """The side-by-side table; targets are the issue's, for email at 100,000."""
    return [
        ("members", f"{args.members:,}", ""),
        ("worker processes (concurrency)", str(args.concurrency), "machine's cores"),
        ("deliveries per batch task", f"{args.batch_size:,}", ""),
        ("delivered (status sent)", f"{ours['sent']:,}", f"{args.members:,}, 0 lost"),
        ("ours: messages/s (send call to last)", fmt(ours["rate"], 0), ""),
        ("ours: messages/s (first to last)", fmt(ours["steady_rate"], 0), ""),
        (f"naive: messages/s ({naive['sent']:,} sample)", fmt(naive["rate"], 0), ""),
        (f"floor: messages/s ({floor['connections']} {floor_unit})", fmt(floor["rate"], 0), ""),
        ("ours / naive", fmt(ours["rate"] / naive["rate"], 2), ">= 10" + ratio_note),
        ("ours / floor", fmt(ours["rate"] / floor["rate"], 2), ">= 0.5" + ratio_note),
        ("ours: worker CPU ms per message", fmt(ours["cpu_ms_per_message"], 3), ""),
        ("naive: CPU ms per message", fmt(naive.get("cpu_ms_per_message"), 3), ""),
        ("floor: CPU ms per message", fmt(floor.get("cpu_ms_per_message"), 3), ""),
        ("time to first message (s)", fmt(ours["first_message_s"], 2), "< 2"),
        ("fan-out: rows created (s)", fmt(ours["rows_created_s"], 2), "< 10 at 100,000"),
        ("fan-out task incl. enqueue (s)", fmt(ours["fanout_task_s"], 2), "< 10 at 100,000"),
    ] + [
        (f"worker peak RSS, pid {pid} (MB)", fmt(mb), "< 150 at 100,000")
        for pid, mb in sorted(ours["worker_peak_rss_mb"].items())
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
    timings = [results.get(timeout=common.SEND_TIMEOUT_SECONDS) for _ in started]
    for process in started:
        process.join(timeout=30)
    return timings
