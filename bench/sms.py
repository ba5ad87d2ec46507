"""`python -m bench.sms --members 20000`: one bulletin by SMS to N members against a
fast local HTTP SMS gateway (bench/sms_gateway.py, in its own process), side by side with

- naive: `requests.post` per message without a session (a new connection each time);
- floor: the same requests over one pooled `requests.Session` per core, nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import time
from collections.abc import Iterator
from typing import Any

import requests

from bench import common
from bench.sms_gateway import FastSmsGateway
from commsvc import embedded_redis

NAIVE_SAMPLE_DEFAULT = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=common.CORES)
    parser.add_argument("--naive-sample", type=int, default=NAIVE_SAMPLE_DEFAULT)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with sms_gateway() as url:
        ours = run_ours(args.members, args.concurrency, url, args.profile)
        naive = run_naive(min(args.naive_sample, args.members), url)
        floor = run_floor(min(args.members, 20_000), args.concurrency, url)
    fmt = common.fmt
    rows = [
        ("members", f"{args.members:,}", ""),
        ("worker processes (concurrency)", str(args.concurrency), "machine's cores"),
        ("delivered (status sent)", f"{ours['sent']:,}", f"{args.members:,}, 0 lost"),
        ("ours: messages/s (send call to last)", fmt(ours["rate"], 0), ""),
        ("ours: messages/s (first to last)", fmt(ours["steady_rate"], 0), ""),
        (f"naive: messages/s ({naive['sent']:,} sample)", fmt(naive["rate"], 0), ""),
        (f"floor: messages/s ({floor['connections']} sessions)", fmt(floor["rate"], 0), ""),
        ("ours / naive", fmt(ours["rate"] / naive["rate"], 2), ">= 10 (email's target)"),
        ("ours / floor", fmt(ours["rate"] / floor["rate"], 2), ">= 0.5 (email's target)"),
        ("ours: worker CPU ms per message", fmt(ours["cpu_ms_per_message"], 3), ""),
        ("time to first message (s)", fmt(ours["first_message_s"], 2), "< 2"),
        ("fan-out task incl. enqueue (s)", fmt(ours["fanout_task_s"], 2), ""),
    ]
    rows += [
        (f"worker peak RSS, pid {pid} (MB)", fmt(mb), "< 150")
        for pid, mb in sorted(ours["worker_peak_rss_mb"].items())
    ]
    common.report(
        f"sms-{args.members}",
        rows,
        {"args": vars(args), "ours": ours, "naive": naive, "floor": floor},
    )


@contextlib.contextmanager
def sms_gateway() -> Iterator[str]:
    """The fast gateway in a process of its own, so it does not share our GIL."""
    port = embedded_redis.free_port()
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    process = context.Process(target=_serve, args=(port, stop), daemon=True)
    process.start()
    url = f"http://127.0.0.1:{port}/send"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            requests.post(url, json={}, timeout=1)
            break
        time.sleep(0.1)
    try:
        yield url
    finally:
        stop.set()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def _serve(port: int, stop: Any) -> None:
    gateway = FastSmsGateway(port).start()
    stop.wait()
    gateway.stop()


def run_ours(members: int, concurrency: int, url: str, profile: bool) -> dict[str, Any]:
    from commsvc import create_app

    with common.stack(sms_url=url) as running:
        app = create_app()
        with app.app_context():
            partnership_id = common.seed(members, with_mobile=True)
            bulletin_id = common.create_bulletin(partnership_id, ["sms"])
            worker = common.start_worker(running, concurrency)
            watch = common.RssWatch([worker])
            watch.start()
            common.RESULTS_DIR.mkdir(exist_ok=True)
            profile_path = common.RESULTS_DIR / f"sms-{members}-profile.txt" if profile else None
            with common.profiled(worker, profile_path):
                sent_at = common.send_now(bulletin_id)
                counts = common.wait_until_done(
                    bulletin_id, members, on_tick=lambda _counts: watch.sample()
                )
            watch.sample()
            first, last, _fanned = common.sent_times(bulletin_id)
            common.stop(worker)
            fanout_seconds = common.fanout_task_seconds(running)
            if profile_path and profile_path.exists():
                print(f"\nprofile of the workers ({profile_path}); % self, % inclusive:")
                for frame, own, share in common.summarise_profile(profile_path):
                    print(f"{own:5.1f}% {share:5.1f}%  {frame}")
    sent = counts.get("sent", 0)
    span = (last - sent_at).total_seconds()
    return {
        "counts": counts,
        "sent": sent,
        "seconds": span,
        "rate": sent / span,
        "steady_rate": sent / (last - first).total_seconds() if last != first else None,
        "first_message_s": (first - sent_at).total_seconds(),
        "fanout_task_s": fanout_seconds,
        "worker_peak_rss_mb": {str(pid): round(mb, 1) for pid, mb in watch.peaks.items()},
        "cpu_ms_per_message": 1000 * watch.cpu_seconds() / sent if sent else None,
    }


def _payload(n: int) -> dict[str, str]:
    return {
        "to": f"+4479{n:08d}",
        "from": "UNION",
        "body": f"Hi Name{n}, the pay offer is out. Vote by Friday.\nReply STOP to opt out",
        "reference": str(n),
    }


def run_naive(count: int, url: str) -> dict[str, Any]:
    started = time.monotonic()
    for n in range(count):
        requests.post(url, json=_payload(n), timeout=15).raise_for_status()
    seconds = time.monotonic() - started
    return {"sent": count, "seconds": seconds, "rate": count / seconds}


def run_floor(count: int, sessions: int, url: str) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(sessions)
    results = context.Queue()
    shares = [count // sessions + (i < count % sessions) for i in range(sessions)]
    processes = [
        context.Process(target=_floor_worker, args=(i, share, url, barrier, results))
        for i, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    seconds = max(results.get(timeout=common.SEND_TIMEOUT_SECONDS) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    return {"sent": count, "connections": sessions, "seconds": seconds, "rate": count / seconds}


def _floor_worker(index: int, share: int, url: str, barrier: Any, results: Any) -> None:
    payloads = [_payload(index * 10_000_000 + n) for n in range(share)]
    session = requests.Session()
    barrier.wait()
    started = time.monotonic()
    for payload in payloads:
        session.post(url, json=payload, timeout=15).raise_for_status()
    results.put(time.monotonic() - started)


if __name__ == "__main__":
    main()
