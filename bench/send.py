"""`python -m bench.send --members 20000`: one bulletin by email to N members, side by
side with the naive loop and the floor, all against Postfix's smtp-sink.

- ours: the whole system as in production (`commsvc web`, `commsvc worker` with
  concurrency = cores, `commsvc beat`), sent to through the REST API and timed as its
  user sees it: from the send request to the first 0.2 s status poll that reads
  `sent`; the worker-only rates (from the database) are printed beside it;
- naive: Jinja2 render, EmailMessage, and a new smtplib connection per message
  (a sample: --naive-sample);
- floor: pre-built messages over one persistent smtplib connection per core, nothing
  else (a sample: --floor-sample, default the members, at most 100,000).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from jinja2 import Environment

from bench import common, report, throughput
from commsvc import embedded_redis

NAIVE_SAMPLE_DEFAULT = 3000
SINK_BACKLOG = "1000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=common.CORES)
    throughput.add_sample_arguments(parser, NAIVE_SAMPLE_DEFAULT)
    parser.add_argument(
        "--profile", action="store_true", help="sample the workers with py-spy while they send"
    )
    parser.add_argument("--batch-size", type=int, default=common.BATCH_SIZE)
    parser.add_argument(
        "--dkim",
        choices=("off", "rsa", "ed25519"),
        default="off",
        help="sign every email with a fresh DKIM key of this kind (RSA 2048 or Ed25519)",
    )
    parser.add_argument("--bounce-domain", default="", help="send with VERP at this domain")
    args = parser.parse_args()
    with smtp_sink() as (sink_port, sink_url), signing_env(args) as extra_env:
        # The references first, on a quiet machine: after ours, PostgreSQL is still
        # writing out what the send changed, and that would slow them down.
        naive_sample, floor_sample = throughput.samples(args)
        naive = run_naive(naive_sample, sink_port)
        floor = run_floor(floor_sample, args.concurrency, sink_port)
        ours = throughput.run_ours(
            "email",
            args.members,
            args.concurrency,
            sink_url,
            args.profile,
            args.batch_size,
            extra_env,
        )
    print_table(args, ours, naive, floor)


@contextlib.contextmanager
def signing_env(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    """The COMMSVC_* variables for --dkim and --bounce-domain (a key made for the run)."""
    env = {"COMMSVC_BOUNCE_DOMAIN": args.bounce_domain} if args.bounce_domain else {}
    if args.dkim == "off":
        yield env
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if args.dkim == "rsa"
        else ed25519.Ed25519PrivateKey.generate()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with tempfile.TemporaryDirectory(prefix="commsvc-dkim-") as folder:
        path = Path(folder) / "dkim.pem"
        path.write_bytes(pem)
        yield {**env, "COMMSVC_DKIM_SELECTOR": "bench", "COMMSVC_DKIM_PRIVATE_KEY": str(path)}


@contextlib.contextmanager
def smtp_sink() -> Iterator[tuple[int, str]]:
    """Postfix's smtp-sink on a loopback port: accepts everything, keeps nothing."""
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not shutil.which(binary):
        raise SystemExit(
            "smtp-sink not found: install the Debian package postfix "
            "(DEBIAN_FRONTEND=noninteractive apt-get install -y postfix)"
        )
    port = embedded_redis.free_port()
    process = subprocess.Popen(
        [binary, "-u", "nobody", f"127.0.0.1:{port}", SINK_BACKLOG],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
                break
            time.sleep(0.1)
        yield port, f"smtp://127.0.0.1:{port}"
    finally:
        common.stop(process)


def run_naive(count: int, port: int) -> dict[str, Any]:
    """Render with Jinja2, build an EmailMessage, new SMTP connection per message."""
    env = Environment(autoescape=True)
    subject = env.from_string(common.SUBJECT)
    text = env.from_string(common.EMAIL_BODY)
    html = env.from_string("<html><body><p>" + common.EMAIL_BODY + "</p></body></html>")
    started = time.monotonic()
    cpu = time.process_time()
    for n in range(count):
        context = {
            "member": {"first_name": f"Name{n}", "branch": "Salford Health Branch"},
            "partnership": {"name": "Salford Integrated Care Section 31 Partnership"},
            "preferences_url": f"http://127.0.0.1:5000/p/{n}",
        }
        message = EmailMessage()
        message["From"] = "bulletins@union.example"
        message["To"] = f"naive{n}@example.org"
        message["Subject"] = subject.render(context)
        message.set_content(text.render(context))
        message.add_alternative(html.render(context), subtype="html")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
            connection.send_message(message)
    seconds = time.monotonic() - started
    cpu_ms = 1000 * (time.process_time() - cpu) / count
    return {
        "sent": count,
        "seconds": seconds,
        "rate": count / seconds,
        "cpu_ms_per_message": cpu_ms,
    }


def run_floor(count: int, connections: int, port: int) -> dict[str, Any]:
    """Pre-built messages over one persistent connection per process, nothing else."""
    timings = throughput.in_processes(_floor_worker, count, connections, port)
    seconds = max(wall for wall, _cpu in timings)
    return {
        "sent": count,
        "connections": connections,
        "seconds": seconds,
        "rate": count / seconds,
        "cpu_ms_per_message": 1000 * sum(cpu for _wall, cpu in timings) / count,
    }


def _floor_worker(index: int, share: int, port: int, barrier: Any, results: Any) -> None:
    from commsvc.services.bulletins.email_message import build_email
    from commsvc.services.bulletins.rendering import RenderedEmail

    rendered = RenderedEmail(
        subject="Pay offer: have your say, Name",
        text=common.EMAIL_BODY,
        html="<html><body><p>" + common.EMAIL_BODY + "</p></body></html>",
    )
    messages = [
        build_email(
            rendered,
            delivery_id=n,
            sender="bulletins@union.example",
            recipient=f"floor{index}-{n}@example.org",
            unsubscribe_url=f"http://127.0.0.1:5000/u/{n}",
            message_id_domain="127.0.0.1",
        )
        for n in range(share)
    ]
    connection = smtplib.SMTP("127.0.0.1", port, timeout=30)
    barrier.wait()
    started, cpu = time.monotonic(), time.process_time()
    for envelope in messages:
        connection.sendmail(envelope.sender, [envelope.recipient], envelope.data)
    timing = (time.monotonic() - started, time.process_time() - cpu)
    connection.quit()
    results.put(timing)


def print_table(
    args: argparse.Namespace, ours: dict[str, Any], naive: dict[str, Any], floor: dict[str, Any]
) -> None:
    report.report(
        f"send-{args.members}" + (f"-dkim-{args.dkim}" if args.dkim != "off" else ""),
        throughput.rows(args, ours, naive, floor, floor_unit="connections"),
        {"args": vars(args), "ours": ours, "naive": naive, "floor": floor},
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything it started was stopped on the way out
        sys.exit("interrupted: its web, worker, beat, Redis and database are gone")
