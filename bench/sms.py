"""`python -m bench.sms --members 20000`: one bulletin by SMS to N members against a
fast local HTTP SMS gateway (bench/sms_gateway.py, in its own process), sent and timed
as bench.send does (the whole system, through the REST API), side by side with

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

from bench import common, report, throughput
from bench.sms_gateway import FastSmsGateway
from commsvc import embedded_redis

NAIVE_SAMPLE_DEFAULT = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=common.CORES)
    throughput.add_sample_arguments(parser, NAIVE_SAMPLE_DEFAULT)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--batch-size", type=int, default=common.BATCH_SIZE)
    args = parser.parse_args()
    with sms_gateway() as url:
        naive_sample, floor_sample = throughput.samples(args)
        naive = run_naive(naive_sample, url)
        floor = run_floor(floor_sample, args.concurrency, url)
        ours = throughput.run_ours(
            "sms", args.members, args.concurrency, url, args.profile, args.batch_size
        )
    report.report(
        f"sms-{args.members}",
        throughput.rows(
            args, ours, naive, floor, floor_unit="sessions", ratio_note=" (email's target)"
        ),
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
    seconds = max(throughput.in_processes(_floor_worker, count, sessions, url))
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
